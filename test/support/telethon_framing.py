"""Telethon's own framing codecs as an independent peer for MTProto.Transport's tests.

Usage: telethon_framing.py FRAMING [SECRET_HEX DC_ID]
FRAMING is abridged, intermediate, padded, full, obfuscated_abridged, obfuscated_intermediate
or obfuscated_padded; with SECRET_HEX the obfuscated ones go through Telethon's MTProxy init.
Line protocol on stdin/stdout (hex):
  in:  packets for the client to send, comma-separated
  out: the client's byte stream (tag or init, then the frames)
  in:  the server's byte stream
  out: the packets Telethon read from it, comma-separated
"""
import asyncio
import sys

from telethon.network.connection.tcpabridged import AbridgedPacketCodec
from telethon.network.connection.tcpfull import FullPacketCodec
from telethon.network.connection.tcpintermediate import (
    IntermediatePacketCodec, RandomizedIntermediatePacketCodec)
from telethon.network.connection.tcpmtproxy import MTProxyIO
from telethon.network.connection.tcpobfuscated import ObfuscatedIO

CODECS = {
    'abridged': AbridgedPacketCodec,
    'intermediate': IntermediatePacketCodec,
    'padded': RandomizedIntermediatePacketCodec,
    'full': FullPacketCodec,
}


class Reader:
    def __init__(self, data):
        self.data, self.pos = data, 0

    async def readexactly(self, n):
        if self.pos + n > len(self.data):
            raise EOFError('short stream')
        chunk = self.data[self.pos:self.pos + n]
        self.pos += n
        return chunk


async def read_all(codec, data):
    reader, packets = Reader(data), []
    while reader.pos < len(data):
        packets.append(await codec.read_packet(reader))
    return packets


def main():
    name = sys.argv[1]
    obfuscated = name.startswith('obfuscated_')
    codec_class = CODECS[name[len('obfuscated_'):] if obfuscated else name]
    codec = codec_class(None)

    packets = [bytes.fromhex(p) for p in sys.stdin.readline().strip().split(',') if p]
    frames = b''.join(codec.encode_packet(p) for p in packets)
    encrypt = decrypt = None
    if obfuscated and len(sys.argv) > 2:
        header, encrypt, decrypt = MTProxyIO.init_header(
            bytes.fromhex(sys.argv[2]), int(sys.argv[3]), codec_class)
    elif obfuscated:
        header, encrypt, decrypt = ObfuscatedIO.init_header(codec_class)
    else:
        header = codec.tag or b''
    stream = bytes(header) + (encrypt.encrypt(frames) if encrypt else frames)
    print(stream.hex(), flush=True)

    reply = bytes.fromhex(sys.stdin.readline().strip())
    if decrypt:
        reply = decrypt.encrypt(reply)
    received = asyncio.run(read_all(codec, reply))
    print(','.join(p.hex() for p in received), flush=True)


if __name__ == '__main__':
    main()
