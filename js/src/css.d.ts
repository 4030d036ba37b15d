/** The bundled stylesheet as text; provided by build.mjs (and a stub in tests). */
declare module "nbchat:css" {
  const css: string;
  export default css;
}

/** The custom-element frame runtime (custom/frame-runtime.ts) as text; provided by build.mjs. */
declare module "nbchat:frame-runtime" {
  const code: string;
  export default code;
}
