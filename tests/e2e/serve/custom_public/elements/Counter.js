// A custom element as nbchat runs it: anywidget's render({ model, el }) over the props.
// It also probes its sandbox: the session cookie and the chat page must be out of reach,
// and a script from anywhere but the app must be refused.
export default {
  render({ model, el }) {
    const count = document.createElement("span");
    count.className = "count";
    const show = () => { count.textContent = `count ${model.get("count")}`; };
    show();
    model.on("change:count", show);

    const add = document.createElement("button");
    add.textContent = "Add one";
    add.addEventListener("click", () => {
      model.set("count", model.get("count") + 1);
      model.save_changes();
    });

    const result = document.createElement("span");
    result.className = "result";
    const ask = document.createElement("button");
    ask.textContent = "Ask server";
    ask.addEventListener("click", async () => {
      const answer = await callAction({ name: "double", payload: { n: model.get("count") } });
      result.textContent = `server says ${answer.response}`;
    });

    const say = document.createElement("button");
    say.textContent = "Say hi";
    say.addEventListener("click", () => sendUserMessage("hi from the element"));

    const probe = document.createElement("div");
    probe.className = "probe";
    let cookie;
    try { cookie = document.cookie === "" ? "empty" : "readable"; } catch { cookie = "blocked"; }
    let page;
    try { page = window.parent.document.title ? "readable" : "empty"; } catch { page = "blocked"; }
    probe.textContent = `cookie ${cookie}, page ${page}`;

    const csp = document.createElement("div");
    csp.className = "csp";
    document.addEventListener("securitypolicyviolation", (e) => {
      csp.textContent = `refused ${e.violatedDirective}`;
    });
    const foreign = document.createElement("script");
    foreign.src = "http://127.0.0.1:9/not-the-app.js";
    document.head.append(foreign);

    el.append(count, " ", add, " ", ask, " ", result, " ", say, probe, csp);
  },
};
