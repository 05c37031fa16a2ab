"""JupyterLab side: the demo store cache and tables (`helpers`), the topic picker (`picker`) and the
cost sliders (`sliders`), each an ipywidget whose logic tests reach without a browser."""
