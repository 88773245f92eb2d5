// Loopback pieces for the network tests: an HTTP CONNECT proxy that records each tunnel's destination, and a
// TLS front that terminates https:// for a plain-http server behind it (the SCIM simulator speaks http; real
// targets are https, which is what HTTPS_PROXY applies to).
import http from 'node:http';
import net from 'node:net';
import tls from 'node:tls';
import type { AddressInfo } from 'node:net';
import { createLoopbackTls } from '../../src/simulators/tls.js';

export interface ConnectProxy {
  url: string;
  /** `host:port` of every tunnel asked for, in order. */
  tunnels: string[];
  /** Answer CONNECT with 403 instead of opening the tunnel. */
  refuse: boolean;
  close(): Promise<void>;
}

export async function startConnectProxy(): Promise<ConnectProxy> {
  const tunnels: string[] = [];
  const state = { refuse: false };
  const sockets = new Set<net.Socket>();
  const server = http.createServer((_req, res) => { res.writeHead(405).end(); });
  server.on('connect', (req: http.IncomingMessage, client: net.Socket, head: Buffer) => {
    tunnels.push(req.url ?? '');
    if (state.refuse) {
      client.end('HTTP/1.1 403 Forbidden\r\n\r\n');
      return;
    }
    const [host, port] = (req.url ?? '').split(':');
    const upstream = net.connect(Number(port), host!, () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    for (const s of [client, upstream]) { sockets.add(s); s.on('close', () => sockets.delete(s)); s.on('error', () => { client.destroy(); upstream.destroy(); }); }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    tunnels,
    get refuse() { return state.refuse; },
    set refuse(v: boolean) { state.refuse = v; },
    close: () => new Promise((resolve) => { for (const s of sockets) s.destroy(); server.close(() => resolve()); }),
  };
}

export interface TlsFront {
  /** https://127.0.0.1:PORT, serving what the server behind it serves. */
  origin: string;
  hostPort: string;
  /** The CA that signed the front's certificate: what a client must trust (its own, not the simulators'). */
  caPem: string;
  close(): Promise<void>;
}

/** Terminates TLS on a port of its own and relays the bytes to `backendPort` on loopback. */
export async function startTlsFront(backendPort: number): Promise<TlsFront> {
  const material = createLoopbackTls();
  const sockets = new Set<net.Socket>();
  const server = tls.createServer({ key: material.keyPem, cert: material.certPem }, (client) => {
    const backend = net.connect(backendPort, '127.0.0.1');
    client.pipe(backend);
    backend.pipe(client);
    for (const s of [client, backend]) { sockets.add(s); s.on('close', () => sockets.delete(s)); s.on('error', () => { client.destroy(); backend.destroy(); }); }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    origin: `https://127.0.0.1:${port}`,
    hostPort: `127.0.0.1:${port}`,
    caPem: material.caPem,
    close: () => new Promise((resolve) => { for (const s of sockets) s.destroy(); server.close(() => resolve()); }),
  };
}
