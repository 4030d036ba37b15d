"""The quickstart notebook, driven in JupyterLab 4 and Notebook 7."""
