import assert from 'node:assert/strict';
import { createServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import { scratchDirs } from 'rondo-testkit';
import { parseBlockStats, parseCpuThreads, QmpClient, type QmpEvent } from './qmp.js';

const scratch = scratchDirs('vmm-qmp');

/**
 * A fake QEMU on a Unix socket: the client side is QmpClient (as in the manager, where QEMU
 * connects to us, the roles of connecting and serving do not matter to QMP).
 */
async function pair(): Promise<{ client: QmpClient; qemu: Socket; sent: () => Record<string, unknown>[] }> {
  const path = join(scratch(), 'qmp.sock');
  const server = createServer();
  await new Promise<void>((r) => server.listen(path, r));
  const accepted = new Promise<Socket>((r) => server.once('connection', r));
  const { connect } = await import('node:net');
  const socket = connect(path);
  const qemu = await accepted;
  server.close();
  const received: Record<string, unknown>[] = [];
  let buf = '';
  qemu.setEncoding('utf8').on('data', (d: string) => {
    buf += d;
    for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
      received.push(JSON.parse(buf.slice(0, nl)) as Record<string, unknown>);
      buf = buf.slice(nl + 1);
    }
  });
  return { client: new QmpClient(socket, 'test'), qemu, sent: () => received };
}

/** Waits until the fake QEMU has received `n` commands. */
async function commands(
  sent: () => Record<string, unknown>[],
  n: number,
): Promise<Record<string, unknown>[]> {
  for (let i = 0; i < 200 && sent().length < n; i++) await new Promise((r) => setTimeout(r, 5));
  return sent();
}

const GREETING =
  '{"QMP": {"version": {"qemu": {"micro": 0, "minor": 2, "major": 7}}, "capabilities": []}}\r\n';

test('handshake waits for the greeting, then negotiates capabilities', async () => {
  const { client, qemu, sent } = await pair();
  const done = client.handshake(2000);
  qemu.write(GREETING);
  const [caps] = await commands(sent, 1);
  assert.deepEqual(caps, { execute: 'qmp_capabilities', id: 1 });
  qemu.write('{"return": {}, "id": 1}\r\n');
  await done;
  client.close();
});

test('answers are matched by id, events go to listeners, errors reject with ERR_VMM_QMP', async () => {
  const { client, qemu, sent } = await pair();
  const events: QmpEvent[] = [];
  client.onEvent((e) => events.push(e));
  const a = client.execute('query-cpus-fast');
  const b = client.execute('query-blockstats', { flat: true });
  const c = client.execute('no-such-command');
  const cmds = await commands(sent, 3);
  assert.deepEqual(cmds[1], { execute: 'query-blockstats', arguments: { flat: true }, id: 2 });
  // Out of order, with an event and a split line in between.
  qemu.write(
    '{"return": [1], "id": 2}\r\n{"event": "SHUTDOWN", "data": {"guest": true, "reason": "guest-shutdown"}, ',
  );
  qemu.write('"timestamp": {"seconds": 1, "microseconds": 2}}\r\n');
  qemu.write(
    '{"error": {"class": "CommandNotFound", "desc": "The command no-such-command has not been found"}, "id": 3}\n',
  );
  qemu.write('{"return": [{"cpu-index": 0, "thread-id": 77}], "id": 1}\n');
  assert.deepEqual(await a, [{ 'cpu-index': 0, 'thread-id': 77 }]);
  assert.deepEqual(await b, [1]);
  await assert.rejects(c, {
    code: 'ERR_VMM_QMP',
    message: /test: no-such-command: CommandNotFound: The command/,
  });
  assert.deepEqual(events, [{ event: 'SHUTDOWN', data: { guest: true, reason: 'guest-shutdown' } }]);
  client.close();
});

test('a command without an answer times out; a late answer is ignored', async () => {
  const { client, qemu, sent } = await pair();
  await assert.rejects(client.execute('query-status', undefined, 50), {
    code: 'ERR_VMM_QMP',
    message: /query-status: no answer within 50 ms/,
  });
  await commands(sent, 1);
  qemu.write('{"return": {}, "id": 1}\n');
  const next = client.execute('query-status');
  await commands(sent, 2);
  qemu.write('{"return": {"running": true}, "id": 2}\n');
  assert.deepEqual(await next, { running: true });
  client.close();
});

test('when QEMU goes away, pending and later commands reject, and a handshake fails', async () => {
  const { client, qemu, sent } = await pair();
  const pending = client.execute('query-status');
  await commands(sent, 1);
  qemu.destroy();
  await assert.rejects(pending, { code: 'ERR_VMM_QMP', message: /closed/ });
  await assert.rejects(client.execute('query-status'), { code: 'ERR_VMM_QMP' });
  await assert.rejects(client.handshake(1000), { code: 'ERR_VMM_QMP', message: /closed/ });
});

test('no greeting within the timeout is ERR_VMM_QMP', async () => {
  const { client } = await pair();
  await assert.rejects(client.handshake(50), {
    code: 'ERR_VMM_QMP',
    message: /no QMP greeting within 50 ms/,
  });
  client.close();
});

test('query-blockstats and query-cpus-fast answers are picked apart', () => {
  const blockstats = [
    {
      device: 'disk0',
      qdev: '/machine/peripheral-anon/device[1]/virtio-backend',
      stats: { rd_bytes: 4096, wr_bytes: 1048576, rd_operations: 2, wr_operations: 16, flush_operations: 3 },
    },
  ];
  assert.deepEqual(parseBlockStats(blockstats), [
    { device: 'disk0', readBytes: 4096, writtenBytes: 1048576, readOps: 2, writeOps: 16 },
  ]);
  assert.deepEqual(parseBlockStats({}), []);
  const cpus = [
    { 'cpu-index': 1, 'thread-id': 1002, 'qom-path': '/machine/unattached/device[1]', target: 'x86_64' },
    { 'cpu-index': 0, 'thread-id': 1001, 'qom-path': '/machine/unattached/device[0]', target: 'x86_64' },
  ];
  assert.deepEqual(parseCpuThreads(cpus), [1001, 1002]);
  assert.deepEqual(parseCpuThreads([{ 'cpu-index': 0 }]), []);
  assert.deepEqual(parseCpuThreads(null), []);
});
