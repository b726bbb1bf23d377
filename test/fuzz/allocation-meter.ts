/**
 * Records the largest typed array, DataView, ArrayBuffer or Buffer that JavaScript code asks for,
 * by standing in for their constructors and Buffer's allocators: a decoder's `new Uint8Array(n)`
 * and `Buffer.alloc(n)` are seen. Not seen: `new Array(n)`, views and copies made through
 * `slice()`, and what Node's internals and native code allocate.
 */
export class AllocationMeter {
  private largestBytes = 0;

  /** Bytes of the largest allocation since the last `reset`. */
  get largest(): number {
    return this.largestBytes;
  }

  reset(): void {
    this.largestBytes = 0;
  }

  install(): void {
    const note = (bytes: number): void => {
      if (bytes > this.largestBytes) this.largestBytes = bytes;
    };
    const g = globalThis as unknown as Record<string, unknown>;
    for (const name of ['Uint8Array', 'Int8Array', 'Uint16Array', 'Uint32Array', 'Float64Array', 'BigUint64Array', 'DataView']) {
      const original = g[name] as { BYTES_PER_ELEMENT?: number } & (new (...args: unknown[]) => object);
      const perElement = original.BYTES_PER_ELEMENT ?? 1;
      g[name] = new Proxy(original, {
        construct(target, args, newTarget) {
          const first = args[0];
          if (typeof first === 'number') note(first * perElement);
          else if (name !== 'DataView' && first !== null && typeof first === 'object' && 'length' in first)
            note(Number((first as { length: unknown }).length) * perElement);
          return Reflect.construct(target, args, newTarget) as object;
        },
      });
    }
    const OriginalArrayBuffer = ArrayBuffer;
    g['ArrayBuffer'] = new Proxy(OriginalArrayBuffer, {
      construct(target, args, newTarget) {
        if (typeof args[0] === 'number') note(args[0]);
        return Reflect.construct(target, args, newTarget) as object;
      },
    });
    for (const key of ['alloc', 'allocUnsafe', 'allocUnsafeSlow'] as const) {
      const original = Buffer[key] as (size: number, ...rest: unknown[]) => Buffer;
      (Buffer as unknown as Record<string, unknown>)[key] = (size: number, ...rest: unknown[]): Buffer => {
        note(size);
        return original.call(Buffer, size, ...rest);
      };
    }
  }
}
