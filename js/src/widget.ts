/**
 * anywidget entry: `export default { render({ model, el }) }`.
 *
 * Python → JS: msg:custom `{events: [...]}` (a batch of server events), and host
 * replies `{host: "file_response", requestId, mime?, error?}` with buffers[0] = bytes.
 * JS → Python: one protocol event per `model.send(event, undefined, buffers?)`;
 * `upload_chunk` carries its bytes as buffers[0]; `{host: "file_request", requestId,
 * objectKey}` asks for an element's bytes when the model has no `files_url` trait.
 * Every render sends `hello` first (with `lastSeq` when this view saw events before),
 * so a freshly displayed view gets a snapshot.
 */
import css from "nbchat:css";
import { injectCss, mount } from "./host";
import { type CommModel, CommTransport } from "./transports/comm";
import type { Host } from "./transports/types";

interface RenderProps {
  model: CommModel;
  el: HTMLElement;
}

function makeHost(model: CommModel, transport: CommTransport): Host {
  const blobUrls = new Set<string>();
  return {
    transport,
    async resolveFile(objectKey) {
      const base = model.get("files_url");
      if (typeof base === "string" && base) return `${base}${encodeURIComponent(objectKey)}`;
      const url = URL.createObjectURL(await transport.fetchFile(objectKey));
      blobUrls.add(url);
      return url;
    },
    releaseFile(url) {
      if (blobUrls.delete(url)) URL.revokeObjectURL(url);
    },
  };
}

function render({ model, el }: RenderProps): () => void {
  injectCss(css, el.ownerDocument);
  const transport = new CommTransport(model);
  const host = makeHost(model, transport);
  const height = model.get("height");
  const app = mount(el, host, { height: typeof height === "number" ? height : undefined });
  app.sendHello();
  return () => {
    app.dispose();
    transport.close();
  };
}

export default { render };
