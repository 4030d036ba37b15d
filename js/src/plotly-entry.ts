/** The separate bundle `static/plotly.js`: plotly.js as an ES module, loaded on demand by
 * ui/plotly.ts (never part of widget.js or page.js). */
import Plotly from "plotly.js-dist-min";

export default Plotly;
