import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

export default defineConfig({
  resolve: {
    alias: {
      "nbchat:css": fileURLToPath(new URL("./test/css-stub.ts", import.meta.url)),
      "nbchat:frame-runtime": fileURLToPath(new URL("./test/css-stub.ts", import.meta.url)),
    },
  },
  test: {
    environment: "jsdom",
    include: ["test/**/*.test.ts"],
  },
});
