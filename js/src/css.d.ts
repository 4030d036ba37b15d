/** The bundled stylesheet as text; provided by build.mjs (and a stub in tests). */
declare module "nbchat:css" {
  const css: string;
  export default css;
}
