/**
 * The events of a response made by an adapter (http/h2.ts, http/native.ts):
 * node's emitter methods, each passed to the emitter that really has the
 * events. Over an HTTP/2 stream that is the stream itself (its drain, finish
 * and close are the response's); over a web Response it is an EventEmitter
 * made when the first listener comes — a page answered at once has none, and
 * a response of a page costs no emitter. pipe() and pipeline() listen through
 * these methods like anyone else.
 */
import { EventEmitter } from 'node:events';

type Listener = (...args: any[]) => void; // eslint-disable-line @typescript-eslint/no-explicit-any

export abstract class ForwardedEvents {
  /** The emitter of the events; `create`: make it if there is none yet (else undefined is fine). */
  protected abstract events(create: boolean): EventEmitter | undefined;

  on(event: string | symbol, listener: Listener): this {
    this.events(true)!.on(event, listener);
    return this;
  }
  addListener(event: string | symbol, listener: Listener): this {
    return this.on(event, listener);
  }
  once(event: string | symbol, listener: Listener): this {
    this.events(true)!.once(event, listener);
    return this;
  }
  prependListener(event: string | symbol, listener: Listener): this {
    this.events(true)!.prependListener(event, listener);
    return this;
  }
  prependOnceListener(event: string | symbol, listener: Listener): this {
    this.events(true)!.prependOnceListener(event, listener);
    return this;
  }
  off(event: string | symbol, listener: Listener): this {
    this.events(false)?.off(event, listener);
    return this;
  }
  removeListener(event: string | symbol, listener: Listener): this {
    return this.off(event, listener);
  }
  removeAllListeners(event?: string | symbol): this {
    this.events(false)?.removeAllListeners(event);
    return this;
  }
  emit(event: string | symbol, ...args: unknown[]): boolean {
    return this.events(false)?.emit(event, ...args) ?? false;
  }
  listeners(event: string | symbol): Function[] { // eslint-disable-line @typescript-eslint/no-unsafe-function-type
    return this.events(false)?.listeners(event) ?? [];
  }
  rawListeners(event: string | symbol): Function[] { // eslint-disable-line @typescript-eslint/no-unsafe-function-type
    return this.events(false)?.rawListeners(event) ?? [];
  }
  listenerCount(event: string | symbol): number {
    return this.events(false)?.listenerCount(event) ?? 0;
  }
  eventNames(): (string | symbol)[] {
    return this.events(false)?.eventNames() ?? [];
  }
  setMaxListeners(n: number): this {
    this.events(true)!.setMaxListeners(n);
    return this;
  }
  getMaxListeners(): number {
    return this.events(false)?.getMaxListeners() ?? EventEmitter.defaultMaxListeners;
  }
}
