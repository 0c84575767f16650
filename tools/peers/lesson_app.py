"""The lesson's FastAPI app, the peer tools/bench-peers measures under
uvicorn (Debian's python3-fastapi and python3-uvicorn):

    /usr/bin/python3 -m uvicorn --app-dir tools/peers lesson_app:app --port 8002
"""
import asyncio
import time

from fastapi import FastAPI, Query

app = FastAPI()


@app.get("/")
def root():
    return {"Hello": "World"}


@app.get("/wait")
def wait(secs: float = Query(..., ge=0, le=60)):
    time.sleep(secs)
    return {"status": "ready", "seconds": secs}


@app.get("/wait_async")
async def wait_async(secs: float = Query(..., ge=0, le=60)):
    await asyncio.sleep(secs)
    return {"status": "ready", "seconds": secs}
