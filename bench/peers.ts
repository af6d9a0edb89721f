import { fork, spawn, type ChildProcess } from 'node:child_process';
import { openSync, readFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';

// The processes a proxy measurement talks to, each in a process of its own so that the load
// generator (this process) does not share an event loop with what it measures.

/** A running process of the bench: its port on 127.0.0.1, its pid, and how to stop it. */
export type Peer = { name: string; port: number; pid: number; stop(): Promise<void> };

/** Files of the bench PKI that the peers read. */
export type PeerCertificates = {
  caFile: string;
  serverCertFile: string;
  serverKeyFile: string;
  clientCertFile: string;
  clientKeyFile: string;
};

/** The mTLS upstream (bench/bench-upstream.ts) in a child process. */
export function startUpstream(certs: PeerCertificates): Promise<Peer> {
  return startForked('upstream', 'bench-upstream.js', [
    certs.serverCertFile,
    certs.serverKeyFile,
    certs.caFile,
  ]);
}

/** The bare Node TCP-to-mutual-TLS pipe (bench/node-pipe.ts) in a child process. */
export function startNodePipe(certs: PeerCertificates, upstreamPort: number): Promise<Peer> {
  return startForked('node-pipe', 'node-pipe.js', [
    String(upstreamPort),
    certs.clientCertFile,
    certs.clientKeyFile,
    certs.caFile,
  ]);
}

/** Forks a script of bench/ that sends its listening port as its first message. */
async function startForked(name: string, script: string, args: string[]): Promise<Peer> {
  const child = fork(path.join(__dirname, script), args);
  const port = await new Promise<number>((resolve, reject) => {
    child.once('message', (message) => resolve(Number(message)));
    child.once('exit', (code) => reject(new Error(`${name} exited with ${code}`)));
  });
  return peerOf(name, child, port);
}

// The program users run; its interpreter line carries the V8 flags the sidecar runs with.
const SIDECAR_BIN = path.join(__dirname, '../../bin/mtls-sidecar.js');

/** The node flags of a script's `#!/usr/bin/env -S node ...` line, to start it as users do. */
export function interpreterFlags(script: string): string[] {
  const first = readFileSync(script, 'utf8').split('\n', 1)[0];
  const flags = /^#!.*\bnode\b(.*)$/.exec(first)?.[1] ?? '';
  return flags.split(' ').filter(Boolean);
}

/** How the sidecar is started: its standalone file, and a folder for a CPU profile if wanted. */
export type SidecarLaunch = { configFile: string; logFile: string; cpuProfileDir?: string };

/**
 * `mtls-sidecar` in standalone file mode with its default log level (the access log on), run
 * by node directly with the flags of its interpreter line, so that its pid is the proxy's own.
 * The rate limit is lifted: the bench is one source address sending thousands of requests a
 * second.
 */
export async function startSidecar(launch: SidecarLaunch): Promise<Peer & { adminPort: number }> {
  const profile = launch.cpuProfileDir
    ? ['--cpu-prof', `--cpu-prof-dir=${launch.cpuProfileDir}`]
    : [];
  const child = spawn(
    process.execPath,
    [
      ...interpreterFlags(SIDECAR_BIN),
      ...profile,
      SIDECAR_BIN,
      '--namespace',
      'bench',
      '--config-file',
      launch.configFile,
      '--listen-port',
      '0',
      '--admin-port',
      '0',
      '--rate',
      '1000000',
      '--burst',
      '1000000',
    ],
    // The log goes to a file: a pipe drained late would block the sidecar's writes.
    { stdio: ['ignore', 'ignore', openSync(launch.logFile, 'w')] },
  );

  const peer = peerOf('sidecar', child, 0);
  for (let tries = 0; ; tries++) {
    if (child.exitCode !== null) {
      throw new Error(`sidecar exited: ${readFileSync(launch.logFile, 'utf8')}`);
    }
    if (tries > 600) {
      await peer.stop();
      throw new Error(`sidecar did not log its ports: ${readFileSync(launch.logFile, 'utf8')}`);
    }
    const ports = /"adminPort":(\d+).*"proxyPort":(\d+)/.exec(readFileSync(launch.logFile, 'utf8'));
    if (ports) return { ...peer, port: Number(ports[2]), adminPort: Number(ports[1]) };
    await delay(50);
  }
}

/** Spawns a program whose output goes to a file, and waits until its port accepts. */
export async function startListening(
  name: string,
  command: string,
  args: string[],
  port: number,
  logFile: string,
): Promise<Peer> {
  const log = openSync(logFile, 'w');
  const child = spawn(command, args, { stdio: ['ignore', log, log] });
  const peer = peerOf(name, child, port);
  for (let tries = 0; ; tries++) {
    if (child.exitCode !== null) {
      throw new Error(`${name} exited: ${readFileSync(logFile, 'utf8')}`);
    }
    if (await accepts(port)) return peer;
    if (tries > 200) {
      await peer.stop();
      throw new Error(`${name} did not listen on ${port}: ${readFileSync(logFile, 'utf8')}`);
    }
    await delay(50);
  }
}

/** Resident memory of a process from /proc: now (VmRSS) and its peak (VmHWM), in MB. */
export function residentMemory(pid: number): { rssMb: number; peakMb: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string): number =>
    Number(new RegExp(`^${field}:\\s+(\\d+)`, 'm').exec(status)?.[1]);
  return { rssMb: round1(kb('VmRSS') / 1024), peakMb: round1(kb('VmHWM') / 1024) };
}

/**
 * CPU time (user and system) a process and its live children (nginx's worker) have used so
 * far, in seconds.
 */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');

  // Fields after the command name (which may hold spaces); utime and stime are 14 and 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticksPerSecond = 100;
  const own = (Number(fields[11]) + Number(fields[12])) / ticksPerSecond;

  const children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim();
  if (children === '') return own;
  return children.split(' ').reduce((sum, child) => sum + cpuSeconds(Number(child)), own);
}

function peerOf(name: string, child: ChildProcess, port: number): Peer {
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
  return {
    name,
    port,
    pid: child.pid ?? 0,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');

      // A sidecar writing its CPU profile takes a moment; anything slower is killed.
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function round1(value: number): number {
  return Math.round(value * 10) / 10;
}
