// @ts-check

/**
 * What the tracker answers, as `window.__burrowIo`: how many targets it holds are laid out above maxY and were never
 * reported intersecting, or are out again near the bottom (from bottomFrom down).
 * @typedef {{ pending(maxY: number, bottomFrom: number): number }} IoTracker
 */

/**
 * A context init script, in every document before the page's own scripts: which IntersectionObserver targets may
 * still be waiting to be scrolled to, for resizeCheck. IntersectionObserver is wrapped with Proxies (constructor,
 * observe, unobserve, disconnect, takeRecords), so it looks and behaves the same to the page: same prototype,
 * `instanceof`, subclassing, native toString, the same errors (the original runs first; the bookkeeping never
 * throws). Per observer, each target is remembered with what it was last reported as: never intersecting yet,
 * intersecting, or out again after having been in. A target is forgotten when unobserved or its observer
 * disconnected, and when found detached from the document (it comes back if its observer reports it again). So
 * what is kept is at most what the page observes. Without IntersectionObserver there is nothing to wrap, and
 * nothing is pending. The state is a non-enumerable `window.__burrowIo`.
 */
function ioTracker() {
  if (Object.prototype.hasOwnProperty.call(window, '__burrowIo')) return;
  const NEVER = 0, IN = 1, OUT = 2;
  /** @type {Map<IntersectionObserver, Map<Element, number>>} observer -> Map(target -> NEVER | IN | OUT) */
  const observers = new Map();
  /** @type {WeakSet<Element>} */
  const swept = new WeakSet();
  /**
   * @param {IntersectionObserver} observer
   * @param {Map<Element, number>} targets
   * @param {Element} target
   */
  const forget = (observer, targets, target) => {
    targets.delete(target);
    if (targets.size === 0) observers.delete(observer);
  };
  // Detached targets are dropped from time to time (and at every check): a page that throws its observers away
  // without disconnecting them must not have their old targets kept alive here.
  let tracked = 0, sweepAt = 256;
  const sweep = () => {
    tracked = 0;
    for (const [observer, targets] of Array.from(observers)) {
      for (const target of Array.from(targets.keys())) {
        if (target.isConnected) tracked++;
        else {
          swept.add(target);
          forget(observer, targets, target);
        }
      }
    }
    sweepAt = Math.max(256, 2 * tracked);
  };
  /** @type {IoTracker} */
  const state = {
    // Targets laid out above maxY never reported intersecting, or out again and near the bottom (from bottomFrom
    // down: an infinite list's sentinel, which a pass would bring back into view).
    pending(maxY, bottomFrom) {
      let count = 0;
      for (const [observer, targets] of Array.from(observers)) {
        for (const [target, seen] of Array.from(targets)) {
          if (seen === IN) continue;
          if (!target.isConnected) {
            swept.add(target);
            forget(observer, targets, target);
            continue;
          }
          if (target.getClientRects().length === 0) continue;
          const top = target.getBoundingClientRect().top + window.scrollY;
          if (top >= maxY || (seen === OUT && top + target.getBoundingClientRect().height < bottomFrom)) continue;
          count++;
        }
      }
      return count;
    },
  };
  Object.defineProperty(window, '__burrowIo', { value: state, enumerable: false, writable: false, configurable: false });
  const Native = window.IntersectionObserver;
  if (typeof Native !== 'function' || !Native.prototype) return;
  const proto = Native.prototype;
  /**
   * @param {IntersectionObserver} observer
   * @param {ArrayLike<IntersectionObserverEntry> | null | undefined} entries what the page's observer reported
   */
  const note = (observer, entries) => {
    if (!entries) return;
    for (const entry of Array.from(entries)) {
      const target = entry && entry.target;
      let targets = observers.get(observer);
      if (!targets || !targets.has(target)) {
        if (!target || !swept.has(target)) continue;
        swept.delete(target);
        if (!targets) observers.set(observer, (targets = new Map()));
        targets.set(target, NEVER);
      }
      const was = targets.get(target);
      targets.set(target, entry.isIntersecting === true ? IN : was === NEVER ? NEVER : OUT);
    }
  };
  const methods = /** @type {Record<string, unknown>} */ (/** @type {unknown} */ (proto));
  /**
   * @param {string} name
   * @param {(observer: IntersectionObserver, args: unknown[], result: unknown) => void} then
   */
  const after = (name, then) => {
    const original = methods[name];
    if (typeof original !== 'function') return;
    methods[name] = new Proxy(original, {
      apply(fn, self, args) {
        const result = Reflect.apply(fn, self, args);
        try { then(self, args, result); } catch (e) {}
        return result;
      },
    });
  };
  after('observe', (observer, args) => {
    const target = /** @type {Element} */ (args[0]);
    let targets = observers.get(observer);
    if (!targets) observers.set(observer, (targets = new Map()));
    if (!targets.has(target)) {
      targets.set(target, NEVER);
      if (++tracked >= sweepAt) sweep();
    }
  });
  after('unobserve', (observer, args) => {
    const targets = observers.get(observer);
    if (targets) forget(observer, targets, /** @type {Element} */ (args[0]));
  });
  after('disconnect', (observer) => { observers.delete(observer); });
  after('takeRecords', (observer, _args, records) => note(observer, /** @type {IntersectionObserverEntry[]} */ (records)));
  const Tracked = new Proxy(Native, {
    construct(target, args, newTarget) {
      const callback = args[0];
      if (typeof callback === 'function') {
        args = Array.prototype.slice.call(args);
        /**
         * @this {unknown}
         * @param {IntersectionObserverEntry[]} entries
         * @param {IntersectionObserver} observer
         */
        args[0] = function (entries, observer) {
          try { note(observer, entries); } catch (e) {}
          return Reflect.apply(callback, this, arguments);
        };
      }
      return Reflect.construct(target, args, newTarget);
    },
  });
  const constructor = Object.getOwnPropertyDescriptor(proto, 'constructor');
  if (constructor) Object.defineProperty(proto, 'constructor', { ...constructor, value: Tracked });
  window.IntersectionObserver = Tracked;
}
