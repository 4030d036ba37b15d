"""Chainlit e2e `dataframe`: a pandas DataFrame as an element (Plotly and Pyplot figures are
covered by tests/runtime/test_elements.py and the served UI test without their libraries)."""

import chainlit as cl
import pandas as pd


@cl.on_chat_start
async def start() -> None:
    frame = pd.DataFrame({"city": ["Oslo", "Lima"], "people": [700_000, 10_000_000]})
    await cl.Message(content="Data", elements=[
        cl.Dataframe(data=frame, name="cities", display="inline"),
    ]).send()
