import { readFileSync, readlinkSync } from 'node:fs';
import { hostname } from 'node:os';

/**
 * The process that owns something on disk (the history lock, a partial archive, a running
 * history row). A pid alone is not enough: pids are reused, so on Linux the kernel's start time of
 * the process and the boot id tell a new process under an old pid apart.
 */
export interface ProcessOwner {
  readonly pid: number;
  readonly host: string;
  /** `/proc/<pid>/stat` field 22 (clock ticks after boot); absent where `/proc` does not exist. */
  readonly startTime?: string;
  /** `/proc/sys/kernel/random/boot_id`: a different one means the machine restarted since. */
  readonly bootId?: string;
  /** `/proc/self/ns/pid`: containers that share a host name and a folder may still number pids apart. */
  readonly pidNamespace?: string;
  /** `/etc/machine-id`: two machines with one host name (and the same initial pid namespace id) differ here. */
  readonly machineId?: string;
}

/**
 * `alive`: the owner runs (or may run: another user's process we cannot inspect).
 * `gone`: provably ended on this machine. `unknown`: another host, which a pid says nothing about.
 */
export type OwnerLiveness = 'alive' | 'gone' | 'unknown';

let current: ProcessOwner | undefined;

export function currentProcessOwner(): ProcessOwner {
  current ??= {
    pid: process.pid,
    host: hostname(),
    ...optional('startTime', processStartTime(process.pid)),
    ...optional('bootId', bootId()),
    ...optional('pidNamespace', pidNamespace()),
    ...optional('machineId', machineId()),
  };
  return current;
}

export function ownerLiveness(owner: ProcessOwner): OwnerLiveness {
  const self = currentProcessOwner();
  const otherMachine = owner.machineId !== undefined && owner.machineId !== self.machineId;
  if (owner.host !== self.host || otherMachine || (owner.pidNamespace !== undefined && owner.pidNamespace !== self.pidNamespace)) {
    return 'unknown'; // Its pids are not ours to look up.
  }
  if (owner.bootId !== undefined && self.bootId !== undefined && owner.bootId !== self.bootId) {
    return 'gone'; // Every process of an earlier boot has ended.
  }
  if (!pidExists(owner.pid)) {
    return 'gone';
  }
  const startTime = processStartTime(owner.pid);
  if (owner.startTime !== undefined && startTime !== undefined && startTime !== owner.startTime) {
    return 'gone'; // The pid now belongs to a process that started later.
  }
  return startTime === ZOMBIE ? 'gone' : 'alive';
}

/** Reads an owner written by `JSON.stringify(currentProcessOwner())`; undefined if it is not one. */
export function parseProcessOwner(value: unknown): ProcessOwner | undefined {
  const raw = typeof value === 'string' ? safeJson(value) : value;
  if (typeof raw !== 'object' || raw === null) {
    return undefined;
  }
  const { pid, host, startTime, bootId: boot, pidNamespace: namespace, machineId: machine } = raw as Record<string, unknown>;
  if (typeof pid !== 'number' || !Number.isInteger(pid) || pid <= 0 || typeof host !== 'string' || host === '') {
    return undefined;
  }
  return {
    pid,
    host,
    ...optional('startTime', typeof startTime === 'string' ? startTime : undefined),
    ...optional('bootId', typeof boot === 'string' ? boot : undefined),
    ...optional('pidNamespace', typeof namespace === 'string' ? namespace : undefined),
    ...optional('machineId', typeof machine === 'string' ? machine : undefined),
  };
}

export function describeOwner(owner: ProcessOwner): string {
  return `process ${owner.pid} on ${owner.host}`;
}

/** A process that has ended but was not yet reaped by its parent can do nothing any more. */
const ZOMBIE = 'zombie';

function processStartTime(pid: number): string | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name (field 2) is in parentheses and may itself contain spaces or parentheses.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  if (fields[0] === 'Z' || fields[0] === 'X') {
    return ZOMBIE;
  }
  return fields[19]; // Field 22 of the whole line; the remainder starts at field 3.
}

function bootId(): string | undefined {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}

function machineId(): string | undefined {
  for (const path of ['/etc/machine-id', '/var/lib/dbus/machine-id']) {
    try {
      const id = readFileSync(path, 'utf8').trim();
      if (id) return id;
    } catch {
      // Not there on this system; try the next place, or go without.
    }
  }
  return undefined;
}

function pidNamespace(): string | undefined {
  try {
    return readlinkSync('/proc/self/ns/pid');
  } catch {
    return undefined;
  }
}

function pidExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function optional<K extends string, V>(key: K, value: V | undefined): Partial<Record<K, V>> {
  return value === undefined ? {} : ({ [key]: value } as Record<K, V>);
}
