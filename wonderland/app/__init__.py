"""`wonderland-app`: the product in a web page (Gradio). Top layer: it runs `WonderlandPipeline`.

`jobs.py` is the work behind the page (no Gradio in it: inputs -> files), `ui.py` the page, `cli.py`
the command. Gradio is the optional extra `app`.
"""
