/**
 * Reader for the data-only pickle subset that `torch.save` writes for a state dict. It builds
 * plain values and never runs code: the only globals it accepts are `collections.OrderedDict`,
 * the torch tensor and parameter rebuild functions and the torch storage classes. Any other
 * global is rejected with an error naming it.
 */
import { UnsupportedCheckpointError, CheckpointFormatError } from './errors.ts';
import type { SourceDtype } from './dtypes.ts';

/** A storage referenced by a persistent id: the zip entry `data/<key>` holding `numel` elements. */
export interface StorageRef {
  kind: 'storage';
  key: string;
  dtype: SourceDtype;
  numel: number;
}

/** A tensor rebuilt by `torch._utils._rebuild_tensor_v2`: a view into a storage. */
export interface TensorRef {
  kind: 'tensor';
  storage: StorageRef;
  /** In elements. */
  storageOffset: number;
  shape: number[];
  /** In elements. */
  stride: number[];
}

/** Storage classes `torch.save` names in persistent ids, with their element types. */
export const STORAGE_DTYPES: Record<string, SourceDtype> = {
  DoubleStorage: 'f64',
  FloatStorage: 'f32',
  HalfStorage: 'f16',
  BFloat16Storage: 'bf16',
  LongStorage: 'i64',
  IntStorage: 'i32',
  ShortStorage: 'i16',
  CharStorage: 'i8',
  ByteStorage: 'u8',
  BoolStorage: 'bool',
};

interface Global {
  kind: 'global';
  module: string;
  name: string;
}

class Mark {}
const MARK = new Mark();

/** Python's tuples and lists both become arrays; dicts and OrderedDicts become Maps. */
export type PickleValue = null | boolean | number | bigint | string | Uint8Array | PickleValue[] | Map<unknown, PickleValue> | Global | StorageRef | TensorRef;

const ALLOWED_GLOBALS = new Set([
  'collections.OrderedDict',
  'torch._utils._rebuild_tensor_v2',
  'torch._utils._rebuild_parameter',
  ...Object.keys(STORAGE_DTYPES).map((name) => `torch.${name}`),
]);

function isGlobal(value: unknown, qualifiedName?: string): value is Global {
  const ok = typeof value === 'object' && value !== null && (value as Global).kind === 'global';
  return ok && (qualifiedName === undefined || `${(value as Global).module}.${(value as Global).name}` === qualifiedName);
}

function toIndex(value: unknown, what: string): number {
  if (typeof value === 'bigint') value = Number(value);
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) throw new CheckpointFormatError(`Pickle: ${what} is not a valid size: ${String(value)}.`);
  return value;
}

function toIndexList(value: unknown, what: string): number[] {
  if (!Array.isArray(value)) throw new CheckpointFormatError(`Pickle: ${what} is not a tuple.`);
  return value.map((v, i) => toIndex(v, `${what}[${i}]`));
}

/** Unpickles `bytes` (the `data.pkl` of a torch zip). `fileName` is used in error messages. */
export function unpickle(bytes: Uint8Array, fileName: string): PickleValue {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const decoder = new TextDecoder('utf-8', { fatal: true });
  const stack: unknown[] = [];
  const memo = new Map<number, unknown>();
  let at = 0;

  const fail = (message: string) => new CheckpointFormatError(`${fileName}: ${message} (pickle byte ${at}). The file is damaged or not a torch state dict.`);
  const need = (n: number) => {
    if (at + n > bytes.length) throw fail('pickle data ends early');
  };
  const u8 = () => (need(1), bytes[at++]);
  const u16 = () => (need(2), (at += 2), view.getUint16(at - 2, true));
  const u32 = () => (need(4), (at += 4), view.getUint32(at - 4, true));
  const i32 = () => (need(4), (at += 4), view.getInt32(at - 4, true));
  const u64 = () => {
    need(8);
    at += 8;
    return Number(view.getBigUint64(at - 8, true));
  };
  const take = (n: number) => (need(n), (at += n), bytes.subarray(at - n, at));
  const line = () => {
    const end = bytes.indexOf(0x0a, at);
    if (end < 0) throw fail('unterminated text line');
    const text = decoder.decode(bytes.subarray(at, end));
    at = end + 1;
    return text;
  };
  const pop = () => {
    if (stack.length === 0) throw fail('pickle stack underflow');
    return stack.pop();
  };
  const top = () => {
    if (stack.length === 0) throw fail('pickle stack underflow');
    return stack[stack.length - 1];
  };
  const popMark = () => {
    const index = stack.lastIndexOf(MARK);
    if (index < 0) throw fail('pickle MARK missing');
    const items = stack.splice(index);
    items.shift();
    return items;
  };
  const signedLong = (data: Uint8Array): number | bigint => {
    if (data.length === 0) return 0;
    let value = 0n;
    for (let i = data.length - 1; i >= 0; i--) value = (value << 8n) | BigInt(data[i]);
    if (data[data.length - 1] & 0x80) value -= 1n << BigInt(8 * data.length);
    return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value;
  };
  const makeGlobal = (module: string, name: string): Global => {
    const qualified = `${module}.${name}`;
    if (!ALLOWED_GLOBALS.has(qualified)) {
      throw new UnsupportedCheckpointError(
        `${fileName} refers to the Python global "${qualified}", which a tensor checkpoint never needs. ` +
          'Trit reads only tensors and never runs code from a checkpoint; re-save a plain state dict (torch.save(model.state_dict(), path)) or use safetensors.',
      );
    }
    return { kind: 'global', module, name };
  };
  const setItem = (target: unknown, key: unknown, value: unknown) => {
    if (!(target instanceof Map)) throw fail('SETITEM on a value that is not a dict');
    target.set(key, value);
  };

  const persistentLoad = (pid: unknown): StorageRef => {
    if (!Array.isArray(pid) || pid[0] !== 'storage' || pid.length < 5) throw fail('unsupported persistent id');
    const [, type, key, , numel] = pid;
    if (!isGlobal(type) || type.module !== 'torch' || !(type.name in STORAGE_DTYPES)) throw fail('persistent id without a storage class');
    if (typeof key !== 'string') throw fail('storage key is not a string');
    return { kind: 'storage', key, dtype: STORAGE_DTYPES[type.name], numel: toIndex(numel, 'storage size') };
  };

  const call = (callable: unknown, args: unknown): unknown => {
    if (!isGlobal(callable)) throw fail('REDUCE on a value that is not a global');
    if (!Array.isArray(args)) throw fail('REDUCE arguments are not a tuple');
    const name = `${callable.module}.${callable.name}`;
    switch (name) {
      case 'collections.OrderedDict': {
        const dict = new Map<unknown, PickleValue>();
        if (args.length > 0 && Array.isArray(args[0])) for (const pair of args[0]) if (Array.isArray(pair)) dict.set(pair[0], pair[1]);
        return dict;
      }
      case 'torch._utils._rebuild_tensor_v2': {
        const [storage, storageOffset, shape, stride] = args;
        if (typeof storage !== 'object' || storage === null || (storage as StorageRef).kind !== 'storage') throw fail('tensor without a storage');
        return {
          kind: 'tensor',
          storage: storage as StorageRef,
          storageOffset: toIndex(storageOffset, 'storage offset'),
          shape: toIndexList(shape, 'tensor size'),
          stride: toIndexList(stride, 'tensor stride'),
        } satisfies TensorRef;
      }
      case 'torch._utils._rebuild_parameter':
        return args[0];
      default:
        throw new UnsupportedCheckpointError(`${fileName}: the global "${name}" cannot be called here; Trit reads only tensors.`);
    }
  };

  for (;;) {
    const opcode = u8();
    switch (opcode) {
      case 0x80: // PROTO
        u8();
        break;
      case 0x95: // FRAME
        u64();
        break;
      case 0x2e: // STOP
        return pop() as PickleValue;
      case 0x7d: // EMPTY_DICT
        stack.push(new Map());
        break;
      case 0x5d: // EMPTY_LIST
      case 0x29: // EMPTY_TUPLE
        stack.push([]);
        break;
      case 0x28: // MARK
        stack.push(MARK);
        break;
      case 0x58: // BINUNICODE
        stack.push(decoder.decode(take(u32())));
        break;
      case 0x8c: // SHORT_BINUNICODE
        stack.push(decoder.decode(take(u8())));
        break;
      case 0x8d: // BINUNICODE8
        stack.push(decoder.decode(take(u64())));
        break;
      case 0x55: // SHORT_BINSTRING
        stack.push(new TextDecoder('latin1').decode(take(u8())));
        break;
      case 0x54: // BINSTRING
        stack.push(new TextDecoder('latin1').decode(take(u32())));
        break;
      case 0x43: // SHORT_BINBYTES
        stack.push(take(u8()).slice());
        break;
      case 0x42: // BINBYTES
        stack.push(take(u32()).slice());
        break;
      case 0x4a: // BININT
        stack.push(i32());
        break;
      case 0x4b: // BININT1
        stack.push(u8());
        break;
      case 0x4d: // BININT2
        stack.push(u16());
        break;
      case 0x8a: // LONG1
        stack.push(signedLong(take(u8())));
        break;
      case 0x8b: // LONG4
        stack.push(signedLong(take(u32())));
        break;
      case 0x47: // BINFLOAT, big-endian
        need(8);
        stack.push(view.getFloat64(at, false));
        at += 8;
        break;
      case 0x4e: // NONE
        stack.push(null);
        break;
      case 0x88: // NEWTRUE
        stack.push(true);
        break;
      case 0x89: // NEWFALSE
        stack.push(false);
        break;
      case 0x74: // TUPLE
        stack.push(popMark());
        break;
      case 0x85: // TUPLE1
        stack.push([pop()]);
        break;
      case 0x86: {
        // TUPLE2
        const b = pop();
        stack.push([pop(), b]);
        break;
      }
      case 0x87: {
        // TUPLE3
        const c = pop();
        const b = pop();
        stack.push([pop(), b, c]);
        break;
      }
      case 0x63: {
        // GLOBAL
        const module = line();
        stack.push(makeGlobal(module, line()));
        break;
      }
      case 0x93: {
        // STACK_GLOBAL
        const name = pop();
        const module = pop();
        if (typeof module !== 'string' || typeof name !== 'string') throw fail('STACK_GLOBAL operands are not strings');
        stack.push(makeGlobal(module, name));
        break;
      }
      case 0x52: {
        // REDUCE
        const args = pop();
        stack.push(call(pop(), args));
        break;
      }
      case 0x62: {
        // BUILD: sets instance state. Only the OrderedDict of a state dict gets one (its `_metadata`), which is not needed.
        pop();
        if (!(top() instanceof Map)) throw fail('BUILD on a value that is not a dict');
        break;
      }
      case 0x73: {
        // SETITEM
        const value = pop();
        const key = pop();
        setItem(top(), key, value);
        break;
      }
      case 0x75: {
        // SETITEMS
        const items = popMark();
        const target = top();
        for (let i = 0; i + 1 < items.length; i += 2) setItem(target, items[i], items[i + 1]);
        break;
      }
      case 0x61: {
        // APPEND
        const value = pop();
        const list = top();
        if (!Array.isArray(list)) throw fail('APPEND on a value that is not a list');
        list.push(value);
        break;
      }
      case 0x65: {
        // APPENDS
        const items = popMark();
        const list = top();
        if (!Array.isArray(list)) throw fail('APPENDS on a value that is not a list');
        list.push(...items);
        break;
      }
      case 0x71: // BINPUT
        memo.set(u8(), top());
        break;
      case 0x72: // LONG_BINPUT
        memo.set(u32(), top());
        break;
      case 0x94: // MEMOIZE
        memo.set(memo.size, top());
        break;
      case 0x68: // BINGET
      case 0x6a: {
        // LONG_BINGET
        const index = opcode === 0x68 ? u8() : u32();
        if (!memo.has(index)) throw fail(`memo entry ${index} missing`);
        stack.push(memo.get(index));
        break;
      }
      case 0x51: // BINPERSID
        stack.push(persistentLoad(pop()));
        break;
      case 0x30: // POP
        pop();
        break;
      case 0x31: // POP_MARK
        popMark();
        break;
      case 0x32: // DUP
        stack.push(top());
        break;
      default:
        throw new UnsupportedCheckpointError(
          `${fileName}: pickle opcode 0x${opcode.toString(16).padStart(2, '0')} at byte ${at - 1} is not part of what torch.save writes for a state dict. ` +
            'Re-save a plain state dict with torch.save or use safetensors.',
        );
    }
  }
}
