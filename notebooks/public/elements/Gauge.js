// A custom element for notebooks/custom_elements.ipynb, written to anywidget's contract:
// render({ model, el }) with model.get / set / on("change:…") / save_changes. In the chat
// the model is the element's props; as an anywidget.AnyWidget it is the widget's traits.
// `callAction` exists only in the chat (Chainlit's API for custom elements).
export default {
  render({ model, el }) {
    const label = document.createElement("strong");
    const bar = document.createElement("div");
    const fill = document.createElement("div");
    bar.style.cssText = "height:10px;width:220px;border-radius:5px;background:#e5e7eb;margin:6px 0";
    fill.style.cssText = "height:100%;border-radius:5px;background:#2563eb;transition:width .2s";
    bar.append(fill);
    const value = document.createElement("span");
    value.className = "gauge-value";
    const show = () => {
      const v = Number(model.get("value"));
      label.textContent = String(model.get("label") ?? "Gauge");
      value.textContent = `${v} / 10`;
      fill.style.width = `${Math.max(0, Math.min(10, v)) * 10}%`;
    };
    const step = (delta) => {
      model.set("value", Math.max(0, Math.min(10, Number(model.get("value")) + delta)));
      model.save_changes();
    };
    const button = (text, onClick) => {
      const b = document.createElement("button");
      b.textContent = text;
      b.addEventListener("click", onClick);
      return b;
    };
    const row = document.createElement("div");
    row.append(button("−", () => step(-1)), " ", value, " ", button("+", () => step(1)));
    if (typeof globalThis.callAction === "function") {
      row.append(" ", button("Reset", () => globalThis.callAction({ name: "reset_gauge", payload: {} })));
    }
    model.on("change:value", show);
    model.on("change:label", show);
    show();
    el.append(label, bar, row);
  },
};
