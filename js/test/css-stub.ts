export default ".nbc-root{}";
