// The part of the WebAssembly JS API this project uses. TypeScript declares the API in its DOM
// library only, and the project compiles without DOM (Node's globals come from @types/node).

declare global {
  namespace WebAssembly {
    interface MemoryDescriptor {
      /** Size in 64 KiB pages. */
      initial: number;
      maximum?: number;
      shared?: boolean;
    }
    interface Memory {
      /** A SharedArrayBuffer for a shared memory. */
      readonly buffer: ArrayBuffer | SharedArrayBuffer;
    }
    const Memory: {
      prototype: Memory;
      new (descriptor: MemoryDescriptor): Memory;
    };
    /** An opaque compiled module. */
    interface Module {}
    const Module: {
      prototype: Module;
      new (bytes: Uint8Array): Module;
    };
    interface Instance {
      readonly exports: Record<string, unknown>;
    }
    const Instance: {
      prototype: Instance;
      new (module: Module, imports?: Record<string, Record<string, unknown>>): Instance;
    };
  }
}

export {};
