/** Something that changed and that other parts of the process react to, such as caches to clear. */
export interface Signal {
  notify(): void;
  subscribe(listener: () => void): void;
}

export function createSignal(): Signal {
  const listeners = new Set<() => void>();
  return {
    notify: () => {
      for (const listener of listeners) listener();
    },
    subscribe: (listener) => void listeners.add(listener),
  };
}
