import { escapeHtml } from '../../lib/html.js';

/**
 * PostHog's built index.html is a Django template ({% include "head.html" %}, {% if js_url %}, {{ git_rev }} ...):
 * Django renders it with the context of posthog/utils.py get_context_for_template. This renders the subset of the
 * template language that file uses: comments, variables with the default / escapejs / yesno / safe filters
 * (autoescaped otherwise), if / elif / else with not / and / or, for loops over lists, and includes, which come
 * from `includes` (an unknown one renders nothing, as does any other tag).
 */

export interface TemplateContext {
  vars: Record<string, unknown>;
  includes: Record<string, string>;
}

type Node =
  | { kind: 'text'; text: string }
  | { kind: 'var'; expression: string }
  | { kind: 'include'; name: string }
  | { kind: 'if'; branches: { condition: string | null; body: Node[] }[] }
  | { kind: 'for'; name: string; list: string; body: Node[] };

const TOKEN = /(\{#[\s\S]*?#\}|\{%[\s\S]*?%\}|\{\{[\s\S]*?\}\})/;

/** Django's escapejs: every character that could end a JS string or an HTML element, as \uXXXX. */
export function escapeJs(value: string): string {
  return value.replace(/[\\'"><&=\-;`\u2028\u2029\u0000-\u001f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}`);
}

function parse(source: string): Node[] {
  const tokens = source.split(TOKEN);
  let position = 0;

  function block(ends: string[]): { nodes: Node[]; end: string | null } {
    const nodes: Node[] = [];
    while (position < tokens.length) {
      const token = tokens[position++] ?? '';
      if (token.startsWith('{#') && token.endsWith('#}')) continue;
      if (token.startsWith('{{') && token.endsWith('}}')) {
        nodes.push({ kind: 'var', expression: token.slice(2, -2).trim() });
        continue;
      }
      if (!(token.startsWith('{%') && token.endsWith('%}'))) {
        if (token) nodes.push({ kind: 'text', text: token });
        continue;
      }
      const tag = token.slice(2, -2).trim();
      const [name = '', ...rest] = tag.split(/\s+/);
      if (ends.includes(name)) return { nodes, end: tag };
      if (name === 'include') nodes.push({ kind: 'include', name: (rest[0] ?? '').replace(/^["']|["']$/g, '') });
      else if (name === 'if') {
        const branches: { condition: string | null; body: Node[] }[] = [];
        let condition: string | null = rest.join(' ');
        for (;;) {
          const { nodes: body, end } = block(['elif', 'else', 'endif']);
          branches.push({ condition, body });
          if (end === null || end === 'endif') break;
          condition = end === 'else' ? null : end.replace(/^elif\s+/, '');
        }
        nodes.push({ kind: 'if', branches });
      } else if (name === 'for' && rest[1] === 'in') {
        const { nodes: body } = block(['endfor']);
        nodes.push({ kind: 'for', name: rest[0] ?? '', list: rest.slice(2).join(' '), body });
      }
      // Any other tag ({% load %}, {% csrf_token %}, ...) renders nothing.
    }
    return { nodes, end: null };
  }
  return block([]).nodes;
}

function lookup(vars: Record<string, unknown>, path: string): unknown {
  let value: unknown = vars;
  for (const part of path.split('.')) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<string, unknown>)[part];
  }
  return value;
}

const truthy = (value: unknown) => (Array.isArray(value) ? value.length > 0 : Boolean(value));

function test(condition: string, vars: Record<string, unknown>): boolean {
  return condition.split(/\s+or\s+/).some((any) =>
    any.split(/\s+and\s+/).every((all) => {
      const negated = /^not\s+/.test(all);
      const value = truthy(lookup(vars, all.replace(/^not\s+/, '').trim()));
      return negated ? !value : value;
    }),
  );
}

const unquote = (argument: string) => argument.replace(/^["']|["']$/g, '');

function output(expression: string, vars: Record<string, unknown>): string {
  const [name = '', ...filters] = expression.split('|').map((part) => part.trim());
  let value = lookup(vars, name);
  let safe = false;
  for (const filter of filters) {
    const colon = filter.indexOf(':');
    const filterName = (colon === -1 ? filter : filter.slice(0, colon)).trim();
    const argument = colon === -1 ? '' : unquote(filter.slice(colon + 1).trim());
    if (filterName === 'default') value = truthy(value) ? value : argument;
    else if (filterName === 'yesno') {
      const [yes = 'yes', no = 'no'] = (argument || 'yes,no').split(',');
      value = truthy(value) ? yes : no;
    } else if (filterName === 'escapejs') {
      value = escapeJs(value === undefined || value === null ? '' : String(value));
      safe = true;
    } else if (filterName === 'safe') safe = true;
  }
  const text = value === undefined || value === null ? '' : String(value);
  return safe ? text : escapeHtml(text);
}

function render(nodes: Node[], context: TemplateContext, vars: Record<string, unknown>): string {
  let html = '';
  for (const node of nodes) {
    if (node.kind === 'text') html += node.text;
    else if (node.kind === 'var') html += output(node.expression, vars);
    else if (node.kind === 'include') html += context.includes[node.name] ?? '';
    else if (node.kind === 'if') {
      const branch = node.branches.find((b) => b.condition === null || test(b.condition, vars));
      if (branch) html += render(branch.body, context, vars);
    } else {
      const list = lookup(vars, node.list);
      for (const item of Array.isArray(list) ? list : []) html += render(node.body, context, { ...vars, [node.name]: item });
    }
  }
  return html;
}

export function renderTemplate(source: string, context: TemplateContext): string {
  return render(parse(source), context, context.vars);
}
