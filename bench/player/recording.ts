/**
 * A long visit as posthog-js records it, as the rrweb events of each $snapshot batch (one batch is one block): a
 * shop's listing page (about 2,000 nodes) in one window, a pointer that moves every 100 ms, a DOM change every
 * 200 ms, a scroll every 3 s, a click every 20 s, a console message a minute and an error every 5 minutes.
 */

type Event = { type: number; timestamp: number; data: unknown };

const PRODUCTS = 240;

/** The listing page's serialized DOM (rrweb-snapshot's node shapes), and the ids of its cards, prices and buttons. */
function listingPage(): { node: object; cards: number[]; prices: number[]; buttons: number[] } {
  let id = 0;
  const text = (textContent: string) => ({ type: 3, id: ++id, textContent });
  const el = (tagName: string, attributes: Record<string, string>, childNodes: object[] = []) => ({ type: 2, id: ++id, tagName, attributes, childNodes });
  const nav = el('nav', { class: 'top' }, Array.from({ length: 10 }, (_, i) => el('a', { href: `/c/${i}` }, [text(`Category ${i}`)])));
  const ids = { cards: [] as number[], prices: [] as number[], buttons: [] as number[] };
  const cards = Array.from({ length: PRODUCTS }, (_, n) => {
    const price = text(`${(n % 90) + 9}.99`);
    const button = el('button', { class: 'add' }, [text('Add to basket')]);
    const card = el('div', { class: 'card', 'data-product': String(n) }, [
      el('img', { src: `https://shop.example.com/p/${n}.jpg`, alt: `Product ${n}`, width: '160', height: '120' }),
      el('h3', {}, [text(`Product ${n}`)]),
      el('p', { class: 'price' }, [price]),
      button,
    ]);
    ids.cards.push(card.id);
    ids.prices.push(price.id);
    ids.buttons.push(button.id);
    return card;
  });
  const style = el('style', {}, [text('.card { display: inline-block; width: 180px; margin: 8px; } .price { color: #080; }')]);
  const html = el('html', { lang: 'en' }, [el('head', {}, [el('title', {}, [text('Shop')]), style]), el('body', {}, [nav, el('main', { class: 'grid' }, cards)])]);
  return { node: { type: 0, id: ++id, childNodes: [{ type: 1, id: ++id, name: 'html', publicId: '', systemId: '' }, html] }, ...ids };
}

/** The events of each 5-second block of a `minutes`-long visit from `start` (ms). */
export function longVisit(start: number, minutes: number, blockSeconds = 5): Event[][] {
  const blocks: Event[][] = [];
  const end = start + minutes * 60_000;
  const page = listingPage();
  for (let from = start; from < end; from += blockSeconds * 1000) {
    const events: Event[] = [];
    if (from === start) {
      events.push({ type: 4, timestamp: start, data: { href: 'https://shop.example.com/products', width: 1280, height: 800 } });
      events.push({ type: 2, timestamp: start + 5, data: { node: page.node, initialOffset: { top: 0, left: 0 } } });
    }
    for (let t = from + 100; t < Math.min(end, from + blockSeconds * 1000); t += 100) {
      const step = (t - start) / 100;
      const x = 200 + Math.round(300 * Math.sin(step / 20));
      const y = 300 + Math.round(200 * Math.cos(step / 30));
      events.push({ type: 3, timestamp: t, data: { source: 1, positions: [{ x: x - 4, y, id: page.cards[step % PRODUCTS]!, timeOffset: -50 }, { x, y, id: page.cards[step % PRODUCTS]!, timeOffset: 0 }] } });
      if (step % 2 === 0) {
        const n = step % PRODUCTS;
        const data = step % 4 === 0
          ? { source: 0, texts: [{ id: page.prices[n]!, value: `${(step % 90) + 9}.49` }], attributes: [], removes: [], adds: [] }
          : { source: 0, texts: [], attributes: [{ id: page.cards[n]!, attributes: { class: step % 8 === 2 ? 'card hover' : 'card' } }], removes: [], adds: [] };
        events.push({ type: 3, timestamp: t + 1, data });
      }
      if (step % 30 === 0) events.push({ type: 3, timestamp: t + 2, data: { source: 3, id: 1, x: 0, y: (step * 7) % 2000 } });
      if (step % 200 === 0) events.push({ type: 3, timestamp: t + 3, data: { source: 2, type: 2, id: page.buttons[step % PRODUCTS]!, x, y } });
      if (step % 600 === 0) events.push({ type: 6, timestamp: t + 4, data: { plugin: 'rrweb/console@1', payload: { level: 'log', payload: [JSON.stringify(`viewed ${step}`)], trace: [] } } });
      if (step % 3000 === 0) events.push({ type: 6, timestamp: t + 4, data: { plugin: 'rrweb/console@1', payload: { level: 'error', payload: [JSON.stringify('basket: 502')], trace: [] } } });
    }
    blocks.push(events);
  }
  return blocks;
}
