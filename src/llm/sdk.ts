/**
 * Provider SDKs are loaded on a model's first call, not at import: together they cost about half
 * a second of start-up (every CLI command, every library import), and a run uses one or two.
 */

/** `load` run once, on the first call; later calls share its promise. */
export function loadOnce<T>(load: () => Promise<T>): () => Promise<T> {
  let loaded: Promise<T> | undefined;
  return () => {
    loaded ??= load();
    return loaded;
  };
}
