/** Free TCP ports on 127.0.0.1, for the embedded database and for processes tests and benches start. */
import net from 'node:net';

export async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(Array.from({ length: count }, () => new Promise<net.Server>((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(server));
  })));
  const ports = servers.map((server) => (server.address() as net.AddressInfo).port);
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  return ports;
}

/** Linux's default ephemeral range starts here (net.ipv4.ip_local_port_range): what outgoing connections take. */
const EPHEMERAL_START = 32_768;
const STABLE_START = 20_000;

/**
 * `count` distinct free ports on 127.0.0.1 below the ephemeral range, for a server that must be able to
 * listen on the same port again after a restart: an outgoing connection's local port (always from the
 * ephemeral range) can never hold it meanwhile. Also below 32768 as Temporal's membership table needs.
 */
export async function freeStablePorts(count: number): Promise<number[]> {
  const ports: number[] = [];
  for (let tries = 0; ports.length < count && tries < 2_000; tries += 1) {
    const candidate = STABLE_START + Math.floor(Math.random() * (EPHEMERAL_START - STABLE_START));
    if (ports.includes(candidate)) continue;
    const free = await new Promise<boolean>((resolve) => {
      const probe = net.createServer();
      probe.once('error', () => resolve(false));
      probe.listen(candidate, '127.0.0.1', () => probe.close(() => resolve(true)));
    });
    if (free) ports.push(candidate);
  }
  if (ports.length < count) throw new Error(`no ${count} free ports between ${STABLE_START} and ${EPHEMERAL_START - 1}`);
  return ports;
}
