// A real OpenID Connect provider (the npm `oidc-provider` package) on loopback, for tests/oauth.
//
// Environment: PORT, CLIENT_ID, CLIENT_SECRET, REDIRECT_URI. Prints one JSON line
// {"ready": true, "issuer": …} on stdout once it listens. One static confidential client
// (client_secret_basic, code flow, PKCE required); one user, `ada`. The interaction (login,
// then consent) is scripted: GET /interaction/:uid signs `ada` in and grants what the client
// asked for, so a test drives the whole flow over HTTP with no form to fill. A user who
// should refuse is simulated by GET /interaction/:uid?deny=1 (error=access_denied).
import { generateKeyPairSync } from "node:crypto";
import Provider, { errors } from "oidc-provider";

const port = Number(process.env.PORT);
const issuer = `http://127.0.0.1:${port}`;
const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
const signingKey = { ...privateKey.export({ format: "jwk" }), kid: "test-key-1", use: "sig", alg: "RS256" };

const accounts = {
  ada: {
    sub: "ada",
    email: "ada@example.org",
    email_verified: true,
    name: "Ada Lovelace",
    preferred_username: "ada",
  },
};

const provider = new Provider(issuer, {
  clients: [{
    client_id: process.env.CLIENT_ID,
    client_secret: process.env.CLIENT_SECRET,
    redirect_uris: [process.env.REDIRECT_URI],
    grant_types: ["authorization_code"],
    response_types: ["code"],
    token_endpoint_auth_method: "client_secret_basic",
  }],
  jwks: { keys: [signingKey] },
  claims: {
    openid: ["sub"],
    email: ["email", "email_verified"],
    profile: ["name", "preferred_username"],
  },
  scopes: ["openid", "email", "profile"],
  cookies: { keys: ["nbchat-test-cookie-key"] },
  pkce: { required: () => true },
  features: { devInteractions: { enabled: false } },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  async findAccount(ctx, id) {
    const claims = accounts[id];
    return claims && { accountId: id, claims: async () => claims };
  },
});

provider.use(async (ctx, next) => {
  const match = ctx.method === "GET" && /^\/interaction\/([^/]+)$/.exec(ctx.path);
  if (!match) return next();
  const details = await provider.interactionDetails(ctx.req, ctx.res);
  const { prompt, params } = details;
  let result;
  if (ctx.query.deny) {
    result = { error: "access_denied", error_description: "the user said no" };
  } else if (prompt.name === "login") {
    result = { login: { accountId: "ada" } };
  } else if (prompt.name === "consent") {
    const grant = details.grantId
      ? await provider.Grant.find(details.grantId)
      : new provider.Grant({ accountId: details.session.accountId, clientId: params.client_id });
    if (prompt.details.missingOIDCScope) grant.addOIDCScope(prompt.details.missingOIDCScope.join(" "));
    if (prompt.details.missingOIDCClaims) grant.addOIDCClaims(prompt.details.missingOIDCClaims);
    result = { consent: { grantId: await grant.save() } };
  } else {
    throw new errors.InvalidRequest(`unexpected prompt ${prompt.name}`);
  }
  const to = await provider.interactionResult(ctx.req, ctx.res, result, { mergeWithLastSubmission: true });
  ctx.status = 303;
  ctx.redirect(to);
});

provider.listen(port, "127.0.0.1", () => {
  process.stdout.write(JSON.stringify({ ready: true, issuer }) + "\n");
});
