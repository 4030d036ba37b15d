declare module "plotly.js-dist-min" {
  const Plotly: import("./ui/plotly").PlotlyLike;
  export default Plotly;
}
