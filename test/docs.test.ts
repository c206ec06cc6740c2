import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from './helpers/process.js';

/** The project's own documents: the README, docs/*.md (docs/screenshots/ holds the README's pictures) and every bench README. */
const documents = [
  'README.md',
  ...readdirSync(path.join(ROOT, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .map((name) => `docs/${name}`),
  ...readdirSync(path.join(ROOT, 'bench'))
    .map((name) => `bench/${name}/README.md`)
    .filter((file) => existsSync(path.join(ROOT, file))),
];

const slug = (heading: string): string =>
  heading
    .toLowerCase()
    .replace(/[^\p{L}\p{N} -]/gu, '')
    .replace(/ /g, '-');

describe('documents', () => {
  it.each(documents)('%s links only to files and headings that exist in the repository', (file) => {
    const text = readFileSync(path.join(ROOT, file), 'utf8');
    const links = [...text.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1]!).filter((link) => !/^[a-z]+:/.test(link));
    for (const link of links) {
      const [target = '', anchor] = link.split('#');
      const resolved = target === '' ? path.join(ROOT, file) : path.resolve(ROOT, path.dirname(file), target);
      expect(resolved.startsWith(ROOT + path.sep), `${file}: ${link} leaves the repository`).toBe(true);
      expect(existsSync(resolved), `${file}: ${link}`).toBe(true);
      if (anchor) {
        const headings = [...readFileSync(resolved, 'utf8').matchAll(/^#+ (.+)$/gm)].map((m) => slug(m[1]!));
        expect(headings, `${file}: ${link}`).toContain(anchor);
      }
    }
  });

  it.each(documents)('%s sends no reader outside the repository by relative path', (file) => {
    expect(readFileSync(path.join(ROOT, file), 'utf8')).not.toMatch(/`\.\.\/(?:shared|[a-z]+\/spec)/);
  });
});
