"""What the step-by-step peers (slixmpp_roster.py, aioxmpp_roster.py) share with their driver,
PythonPeer in test/interop/python-client.ts.

Out: one JSON object per stdout line, {"event": ...}. In: one JSON command per stdin line,
{"cmd": ..., "seq": n, ...}; each is answered with {"event": "done", "seq": n, "cmd": ...}, with
"error" when the command failed. End of stdin means: close the stream and exit.
"""
import asyncio
import json
import sys
import traceback


def emit(event, **fields):
    print(json.dumps({'event': event, **fields}), flush=True)


async def serve_commands(handlers):
    """Run each command read from stdin through handlers[cmd] (a coroutine function taking the
    command's fields), one at a time, in order. Returns at the end of stdin."""
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    while True:
        line = await reader.readline()
        if not line:
            return
        command = json.loads(line)
        name = command.pop('cmd')
        seq = command.pop('seq')
        handler = handlers.get(name)
        try:
            if handler is None:
                raise ValueError('unknown command %r' % name)
            result = await handler(**command) or {}
            emit('done', seq=seq, cmd=name, **result)
        except Exception as err:  # reported to the driver, which fails the test with the transcript
            traceback.print_exc(file=sys.stderr)
            emit('done', seq=seq, cmd=name, error='%s: %s' % (type(err).__name__, err))
