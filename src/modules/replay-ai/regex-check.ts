import type { RegexEngine } from './contract.js';

/**
 * Why a regex the model wrote cannot be used with its engine, or null when it can. A cheap safety net PostHog does
 * not have: JavaScript regexes are compiled as they are. RE2 has no native module here, so an RE2 regex is read by
 * a small scanner of our own: lookaround and backreferences (which RE2 refuses) are refused, RE2's own syntax that
 * JavaScript lacks (flag groups such as (?i), (?P<name>…), \A and \z) is rewritten to its JavaScript equivalent,
 * and the result is compiled. That is a syntax check, not a full RE2 parser.
 */
export function regexProblem(pattern: string, engine: RegexEngine): string | null {
  const translated = engine === 're2' ? fromRe2(pattern) : { source: pattern, flags: '' };
  if ('problem' in translated) return translated.problem;
  try {
    new RegExp(translated.source, translated.flags);
    return null;
  } catch (error) {
    return (error as Error).message;
  }
}

const LOOKAROUND = /^(?:=|!|<=|<!)/;
const NAMED_GROUP = /^P?<([A-Za-z_][A-Za-z0-9_]*)>/;
const FLAG_GROUP = /^([imsU]*)(?:-([imsU]*))?([:)])/;

function fromRe2(pattern: string): { source: string; flags: string } | { problem: string } {
  const unsupported = (what: string) => ({ problem: `Not a valid RE2 regex: RE2 does not support ${what}` });
  const flags = new Set<string>();
  let source = '';
  let inClass = false;
  for (let i = 0; i < pattern.length; i++) {
    const char = pattern[i]!;
    if (char === '\\') {
      const next = pattern[i + 1] ?? '';
      i++;
      if (!inClass && /[1-9]/.test(next)) return unsupported('backreferences');
      if (!inClass && next === 'k') return unsupported('backreferences');
      source += !inClass && next === 'A' ? '^' : !inClass && next === 'z' ? '$' : char + next;
      continue;
    }
    if (inClass) {
      if (char === ']') inClass = false;
      source += char;
      continue;
    }
    if (char === '[') {
      inClass = true;
      source += char;
      if (pattern[i + 1] === '^') source += pattern[++i];
      // A "]" first in a class is a literal in RE2; JavaScript would read an empty class.
      if (pattern[i + 1] === ']') {
        source += '\\]';
        i++;
      }
      continue;
    }
    if (char === '(' && pattern[i + 1] === '?') {
      const rest = pattern.slice(i + 2);
      if (LOOKAROUND.test(rest)) return unsupported('lookahead or lookbehind');
      const named = NAMED_GROUP.exec(rest);
      if (named) {
        source += `(?<${named[1]}>`;
        i += 1 + named[0].length;
        continue;
      }
      const flagGroup = FLAG_GROUP.exec(rest);
      if (flagGroup && (flagGroup[1] || flagGroup[2])) {
        // Close enough for a syntax check: the flags apply to the whole regex. U (ungreedy) has no JavaScript flag.
        for (const flag of flagGroup[1] ?? '') if (flag !== 'U') flags.add(flag);
        source += flagGroup[3] === ':' ? '(?:' : '';
        i += 1 + flagGroup[0].length;
        continue;
      }
    }
    source += char;
  }
  return { source, flags: [...flags].join('') };
}
