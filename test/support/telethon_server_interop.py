"""Telethon (Debian's python3-telethon, layer 144) as an independent client of MTProto.TestServer.

Usage: telethon_server_interop.py HOST PORT PUBLIC_KEY_PEM FRAMING DC_ID
FRAMING is abridged, intermediate, full or obfuscated. Creates an auth key (Telethon uses
req_pq_multi and the legacy RSA padding), sends invokeWithLayer(144, initConnection(
help.getConfig)) as every Telethon connect does, then ping, help.getNearestDc and
help.getConfig, and prints one line of key=value pairs with what it got back. Exit status 0
only if every step succeeded.
"""
import asyncio
import logging
import sys

from telethon import TelegramClient, connection
from telethon.crypto import rsa
from telethon.sessions import MemorySession
from telethon.tl import functions
from telethon.tl.alltlobjects import LAYER

CONNECTIONS = {
    'abridged': connection.ConnectionTcpAbridged,
    'intermediate': connection.ConnectionTcpIntermediate,
    'full': connection.ConnectionTcpFull,
    'obfuscated': connection.ConnectionTcpObfuscated,
}


async def run(host, port, pem, framing, dc_id):
    rsa.add_key(pem, old=False)
    session = MemorySession()
    session.set_dc(dc_id, host, port)
    client = TelegramClient(session, api_id=1, api_hash='0' * 32,
                            connection=CONNECTIONS[framing], receive_updates=False,
                            # Telethon drops a leading zero byte of the auth key and so
                            # fails ~1 handshake in 256 ("invalid new nonce hash"): let it
                            # retry, as it does by default.
                            connection_retries=4, retry_delay=0, request_retries=1,
                            timeout=10)
    await client.connect()
    try:
        pong = await client(functions.PingRequest(ping_id=0x1234567890))
        nearest = await client(functions.help.GetNearestDcRequest())
        config = await client(functions.help.GetConfigRequest())
        return {
            'layer': LAYER,
            'auth_key_bytes': len(session.auth_key.key),
            'auth_key_id': session.auth_key.key_id,
            'pong_ping_id': pong.ping_id,
            'nearest_this_dc': nearest.this_dc,
            'nearest_dc': nearest.nearest_dc,
            'config_this_dc': config.this_dc,
            'config_dc_options': ';'.join(
                '%d,%s,%d' % (o.id, o.ip_address, o.port) for o in config.dc_options),
        }
    finally:
        await client.disconnect()


def main():
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    host, port, pem_path, framing, dc_id = sys.argv[1:6]
    with open(pem_path) as f:
        pem = f.read()
    result = asyncio.run(asyncio.wait_for(
        run(host, int(port), pem, framing, int(dc_id)), timeout=30))
    print(' '.join('%s=%s' % item for item in result.items()), flush=True)


if __name__ == '__main__':
    main()
