import { randomUUID } from 'node:crypto';
import { and, eq, type SQL, sql } from 'drizzle-orm';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config.js';
import { createContainer } from '../../../src/container.js';
import type { Database } from '../../../src/db/client.js';
import { fileSystem, users } from '../../../src/db/schema/index.js';
import { splitPath } from '../../../src/modules/file-system/paths.js';
import {
  HOG_FUNCTION_TYPES,
  parseSearch,
  type SearchConditionOptions,
  type SearchToken,
  searchCondition,
} from '../../../src/modules/file-system/repository-search.js';
import { openTestDatabase } from '../../helpers/database.js';

// ---------------------------------------------------------------------------------------------------------------
// parseSearch: expectations are the output of PostHog's tokenize_search + token loop (Python 3.11 shlex).
// ---------------------------------------------------------------------------------------------------------------

const plain = (value: string, raw = value, negated = false): SearchToken => ({ negated, field: null, value, raw });
const field = (f: SearchToken['field'], value: string, raw: string, negated = false): SearchToken => ({ negated, field: f, value, raw });

describe('parseSearch', () => {
  it.each<[string, SearchToken[]]>([
    ['flag scene tabs', [plain('flag'), plain('scene'), plain('tabs')]],
    ['  spaced\t\ttabs\nand\r\nlines  ', [plain('spaced'), plain('tabs'), plain('and'), plain('lines')]],
    // shlex whitespace is only space, tab, CR and LF: a no-break space stays inside the token.
    ['a\u00a0b', [plain('a\u00a0b')]],
  ])('splits on whitespace: %j', (query, expected) => {
    expect(parseSearch(query)).toEqual(expected);
  });

  it.each<[string, SearchToken[]]>([
    ['"multi word" x', [plain('multi word'), plain('x')]],
    ["'single quoted words'", [plain('single quoted words')]],
    // Quoted runs concatenate with their neighbours, as in a POSIX shell.
    ['a"b c"d', [plain('ab cd')]],
    ["'it''s'", [plain('its')]],
    // Inside double quotes a backslash escapes only " and \; inside single quotes nothing.
    ['"say \\"hi\\""', [plain('say "hi"')]],
    ["'back\\slash'", [plain('back\\slash')]],
    // Outside quotes a backslash escapes the next character.
    ['go\\/revenue', [plain('go/revenue')]],
    ['a\\ b', [plain('a b')]],
  ])('resolves quotes and escapes like shlex: %j', (query, expected) => {
    expect(parseSearch(query)).toEqual(expected);
  });

  it.each<[string, SearchToken[]]>([
    // An apostrophe leaves a single quote open: retried with only " as a quote character.
    ["what's new", [plain("what's"), plain('new')]],
    ["name:what's", [field('name', "what's", "name:what's")]],
    // A double quote left open (or a trailing backslash) fails both lexers: plain whitespace split, quotes kept.
    ['"unbalanced it\'s', [plain('"unbalanced'), plain("it's")]],
    ['"a b', [plain('"a'), plain('b')]],
    ['a\\', [plain('a\\')]],
    ['x\u00a0"y z', [plain('x'), plain('"y'), plain('z')]],
  ])('tolerates unbalanced quotes: %j', (query, expected) => {
    expect(parseSearch(query)).toEqual(expected);
  });

  it.each<[string, SearchToken[]]>([
    ['-type:folder !report', [field('type', 'folder', '-type:folder', true), plain('report', '!report', true)]],
    ['--x', [plain('-x', '--x', true)]],
    ['!-x', [plain('-x', '!-x', true)]],
    // Quotes are resolved before the prefix is read, so a quoted "-word" still negates.
    ['"-quoted"', [plain('quoted', '-quoted', true)]],
    ['-"two words"', [plain('two words', '-two words', true)]],
  ])('negates with - and !: %j', (query, expected) => {
    expect(parseSearch(query)).toEqual(expected);
  });

  it.each<[string, SearchToken[]]>([
    [
      'name:report type:file -author:"Paul D" draft',
      [field('name', 'report', 'name:report'), field('type', 'file', 'type:file'), field('user', 'Paul D', '-author:Paul D', true), plain('draft')],
    ],
    ['PATH:Foo Name:Bar AUTHOR:x', [field('path', 'Foo', 'PATH:Foo'), field('name', 'Bar', 'Name:Bar'), field('user', 'x', 'AUTHOR:x')]],
    ['user:me ref:42', [field('user', 'me', 'user:me'), field('ref', '42', 'ref:42')]],
    // Split on the first colon only; the value is trimmed, then loses one pair of surrounding quotes.
    ['ref:a:b', [field('ref', 'a:b', 'ref:a:b')]],
    ['name:" padded "', [field('name', 'padded', 'name: padded ')]],
    ["name:'\"quoted\"'", [field('name', 'quoted', 'name:"quoted"')]],
    ['user:', [field('user', '', 'user:')]],
  ])('parses field:value tokens: %j', (query, expected) => {
    expect(parseSearch(query)).toEqual(expected);
  });

  it.each<[string, SearchToken[]]>([
    ['foo:bar', [plain('foo:bar')]],
    [':x', [plain(':x')]],
    ['-Folder:"a b"', [plain('Folder:a b', '-Folder:a b', true)]],
  ])('keeps a token with an unknown field whole: %j', (query, expected) => {
    expect(parseSearch(query)).toEqual(expected);
  });

  it.each(['', '   ', '- !', '"" \'\'', '\'"\'', '-"" !\'\''])('skips empty tokens: %j', (query) => {
    expect(parseSearch(query)).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// searchCondition, on a real database.
// ---------------------------------------------------------------------------------------------------------------

let database: Database;
let teamId: number;
let projectId: number;
/** The searching user. */
let me: number;
/** Paul Dupont <paul.d@example.com>. */
let paul: number;
/** A user whose name and email hold LIKE metacharacters: "Pct%Name Under_Score" <odd\\user@example.com>. */
let odd: number;

interface Row {
  path: string;
  type?: string;
  ref?: string | null;
  createdById?: number | null;
}

/** Replaces the whole file_system table with these rows. */
async function seed(rows: Row[]): Promise<void> {
  await database.db.delete(fileSystem);
  if (rows.length === 0) return;
  await database.db.insert(fileSystem).values(
    rows.map((row) => ({
      id: randomUUID(),
      teamId,
      projectId,
      path: row.path,
      depth: splitPath(row.path).length,
      type: row.type ?? '',
      ref: row.ref ?? null,
      createdById: row.createdById ?? null,
    })),
  );
}

function options(overrides: Partial<SearchConditionOptions> = {}): SearchConditionOptions {
  return { currentUserId: me, searchNameOnly: false, ...overrides };
}

/** The paths of the rows the search matches, sorted. */
async function matching(query: string, overrides: Partial<SearchConditionOptions> = {}): Promise<string[]> {
  const condition = searchCondition(query, options(overrides));
  const rows = await database.db
    .select({ path: fileSystem.path })
    .from(fileSystem)
    .where(and(eq(fileSystem.teamId, teamId), condition));
  return rows.map((row) => row.path).sort();
}

beforeAll(async () => {
  database = await openTestDatabase();
  const services = createContainer(database, loadConfig({ DATA_DIR: '/tmp/burrow-test', WORKERS: 'off' }), pino({ level: 'silent' }));
  const account = await services.accounts.createAccount({ email: 'me@example.com', password: null, firstName: 'Searching', lastName: 'Self' });
  me = account.user.id;
  teamId = account.team.id;
  projectId = account.team.projectId;
  const insertUser = async (firstName: string, lastName: string, email: string) => {
    const [row] = await database.db
      .insert(users)
      .values({ uuid: randomUUID(), distinctId: randomUUID(), firstName, lastName, email })
      .returning({ id: users.id });
    return row!.id;
  };
  paul = await insertUser('Paul', 'Dupont', 'paul.d@example.com');
  odd = await insertUser('Pct%Name', 'Under_Score', 'odd\\user@example.com');
});

afterAll(async () => {
  await database?.close();
});

describe('searchCondition', () => {
  it('is undefined when there are no tokens', () => {
    for (const query of ['', '  \t ', '- !', '"" \'\'']) {
      expect(searchCondition(query, options())).toBeUndefined();
    }
  });

  describe('plain terms', () => {
    beforeAll(async () => {
      await seed([
        { path: 'unfiled/scene-tabs', type: 'feature_flag' },
        { path: 'Unfiled/Feature Flags', type: 'folder' },
        { path: 'Banana', type: 'folder' },
        { path: 'Banana/go\\/revenue', type: 'insight' },
        { path: 'Banana/go/revenue', type: 'insight' },
        { path: 'Banana/go-revenue', type: 'insight' },
        { path: 'Reports/Weekly REPORT', type: 'dashboard' },
        { path: 'Pipelines/Slack', type: 'hog_function/destination' },
      ]);
    });

    it('match the path or the type, case-insensitively', async () => {
      expect(await matching('report')).toEqual(['Reports/Weekly REPORT']);
      expect(await matching('FLAG')).toEqual(['Unfiled/Feature Flags', 'unfiled/scene-tabs']);
      expect(await matching('dashboard')).toEqual(['Reports/Weekly REPORT']);
    });

    it('are ANDed: "flag scene tabs" matches type=feature_flag, path=unfiled/scene-tabs', async () => {
      expect(await matching('flag scene tabs')).toEqual(['unfiled/scene-tabs']);
      expect(await matching('flag scene nothing')).toEqual([]);
    });

    it('with a slash match a separator or an escaped slash: go/revenue finds Banana/go\\/revenue', async () => {
      expect(await matching('go/revenue')).toEqual(['Banana/go/revenue', 'Banana/go\\/revenue']);
      expect(await matching('GO/Revenue')).toEqual(['Banana/go/revenue', 'Banana/go\\/revenue']);
      expect(await matching('banana/go')).toEqual(['Banana/go-revenue', 'Banana/go/revenue', 'Banana/go\\/revenue']);
      // ...and the type too.
      expect(await matching('hog_function/dest')).toEqual(['Pipelines/Slack']);
      expect(await matching('-go/revenue type:insight')).toEqual(['Banana/go-revenue']);
    });

    it('with an unknown field match the whole token as a plain contains, also with a slash or search_name_only', async () => {
      await seed([
        { path: 'Docs/meeting:notes', type: 'notebook' },
        { path: 'Docs/a:b/c', type: 'notebook' },
        { path: 'Docs/a:b\\/c', type: 'notebook' },
        { path: 'type/x:y', type: 'folder' },
      ]);
      expect(await matching('meeting:notes')).toEqual(['Docs/meeting:notes']);
      expect(await matching('MEETING:NOTES', { searchNameOnly: true })).toEqual(['Docs/meeting:notes']);
      // Not the slash regex: only the literal text.
      expect(await matching('a:b/c')).toEqual(['Docs/a:b/c']);
      expect(await matching('docs/x:y', { searchNameOnly: true })).toEqual([]);
      expect(await matching('e/x:y', { searchNameOnly: true })).toEqual(['type/x:y']);
      expect(await matching('-a:b')).toEqual(['Docs/meeting:notes', 'type/x:y']);
    });
  });

  describe('path: and name:', () => {
    beforeAll(async () => {
      await seed([
        { path: 'Reports', type: 'folder' },
        { path: 'Reports/Q1', type: 'folder' },
        { path: 'Reports/Q1/Revenue report', type: 'insight' },
        { path: 'Archive\\/Reports/old', type: 'insight' },
        { path: 'Archive/a\\/b', type: 'insight' },
        { path: 'Archive/a/b', type: 'insight' },
        { path: 'Top/back\\\\slash/leaf', type: 'insight' },
        // The segments "dir\" and "leaf": the slash after an escaped backslash is a separator.
        { path: 'Top/dir\\\\/leaf', type: 'insight' },
        { path: 'Top/trailing/', type: 'folder' },
      ]);
    });

    it('path: matches a parent segment, never the last one', async () => {
      expect(await matching('path:report')).toEqual(['Archive\\/Reports/old', 'Reports/Q1', 'Reports/Q1/Revenue report']);
      expect(await matching('path:q1')).toEqual(['Reports/Q1/Revenue report']);
      expect(await matching('path:revenue')).toEqual([]);
      // "Top/trailing/" has the segments [Top, trailing]: "trailing" is its last segment, not a parent.
      expect(await matching('path:trailing')).toEqual([]);
    });

    it('name: matches the last segment only', async () => {
      expect(await matching('name:report')).toEqual(['Reports', 'Reports/Q1/Revenue report']);
      expect(await matching('name:q1')).toEqual(['Reports/Q1']);
      expect(await matching('name:trailing')).toEqual(['Top/trailing/']);
      expect(await matching('name:archive')).toEqual([]);
    });

    it('respect escaped slashes: a "/" in a name is part of its segment', async () => {
      // "Archive\/Reports" is one segment, "Archive/Reports" as text.
      expect(await matching('path:"archive/reports"')).toEqual(['Archive\\/Reports/old']);
      expect(await matching('path:"e/r"')).toEqual(['Archive\\/Reports/old']);
      // name:a/b finds the last segment "a/b" (stored a\/b), never the two segments a and b.
      expect(await matching('name:a/b')).toEqual(['Archive/a\\/b']);
      expect(await matching('name:/')).toEqual(['Archive/a\\/b']);
      expect(await matching('path:a/b')).toEqual([]);
      // A stored "\\" is one backslash.
      expect(await matching('path:k\\\\s')).toEqual(['Top/back\\\\slash/leaf']);
      expect(await matching("path:'back\\slash'")).toEqual(['Top/back\\\\slash/leaf']);
      expect(await matching("name:'\\'")).toEqual([]);
      expect(await matching('name:dir')).toEqual([]);
      expect(await matching("path:'dir\\'")).toEqual(['Top/dir\\\\/leaf']);
      expect(await matching("name:'\\/leaf'")).toEqual([]);
    });

    it('with an empty value mean "has a parent" and "has a name"', async () => {
      expect((await matching('path:')).length).toBe(8);
      expect((await matching('name:')).length).toBe(9);
    });
  });

  describe('search_name_only', () => {
    beforeAll(async () => {
      await seed([
        { path: 'Marketing', type: 'folder' },
        { path: 'Marketing/Signups', type: 'insight' },
        { path: 'Growth/Marketing spend', type: 'insight' },
        { path: 'Growth/in\\/out', type: 'insight' },
        { path: 'Growth/in/out', type: 'insight' },
      ]);
    });

    it('makes plain terms match only the last segment', async () => {
      expect(await matching('marketing')).toEqual(['Growth/Marketing spend', 'Marketing', 'Marketing/Signups']);
      expect(await matching('marketing', { searchNameOnly: true })).toEqual(['Growth/Marketing spend', 'Marketing']);
      // Not the type.
      expect(await matching('insight', { searchNameOnly: true })).toEqual([]);
      expect(await matching('MARKETING -spend', { searchNameOnly: true })).toEqual(['Marketing']);
    });

    it('makes a term with a slash a name containing the slash', async () => {
      expect(await matching('in/out')).toEqual(['Growth/in/out', 'Growth/in\\/out']);
      expect(await matching('in/out', { searchNameOnly: true })).toEqual(['Growth/in\\/out']);
    });

    it('leaves field tokens alone', async () => {
      expect(await matching('path:marketing', { searchNameOnly: true })).toEqual(['Marketing/Signups']);
      expect(await matching('type:folder', { searchNameOnly: true })).toEqual(['Marketing']);
    });
  });

  describe('user: and author:', () => {
    beforeAll(async () => {
      await seed([
        { path: 'mine', createdById: me },
        { path: 'pauls', createdById: paul },
        { path: 'odd', createdById: odd },
        { path: 'nobody', createdById: null },
      ]);
    });

    it('user:me is the current user', async () => {
      expect(await matching('user:me')).toEqual(['mine']);
      expect(await matching('USER:ME')).toEqual(['mine']);
      expect(await matching('author:me')).toEqual(['mine']);
      expect(await matching('user:me', { currentUserId: paul })).toEqual(['pauls']);
    });

    it('user:<text> matches "first last" or the email, case-insensitively', async () => {
      expect(await matching('user:paul')).toEqual(['pauls']);
      expect(await matching('author:"paul dup"')).toEqual(['pauls']);
      expect(await matching('user:"l D"')).toEqual(['pauls']);
      expect(await matching('user:PAUL.D@')).toEqual(['pauls']);
      expect(await matching('user:example.com')).toEqual(['mine', 'odd', 'pauls']);
      expect(await matching('user:self')).toEqual(['mine']);
      expect(await matching('user:nobody')).toEqual([]);
      // "first last" is concatenated with one space, so "paul  dupont" is not in it.
      expect(await matching('user:"Paul  Dupont"')).toEqual([]);
    });

    it('user:<text> treats LIKE metacharacters literally', async () => {
      expect(await matching('user:%')).toEqual(['odd']);
      expect(await matching('user:_')).toEqual(['odd']);
      expect(await matching('user:"pct%name under_score"')).toEqual(['odd']);
      expect(await matching("user:'odd\\user'")).toEqual(['odd']);
      expect(await matching("user:'\\'")).toEqual(['odd']);
      expect(await matching('user:p%t')).toEqual([]);
      expect(await matching('user:p_ul')).toEqual([]);
    });

    it('negated, keeps rows without a creator', async () => {
      expect(await matching('-user:me')).toEqual(['nobody', 'odd', 'pauls']);
      expect(await matching('!author:paul')).toEqual(['mine', 'nobody', 'odd']);
      expect(await matching('-user:example')).toEqual(['nobody']);
    });

    it('uses a caller-supplied userMatch, and treats its NULL as no match', async () => {
      const viaJoinedName = (value: string): SQL => sql`${users.firstName} = ${value}`;
      const rows = await database.db
        .select({ path: fileSystem.path })
        .from(fileSystem)
        .leftJoin(users, eq(users.id, fileSystem.createdById))
        .where(searchCondition('user:Paul', options({ userMatch: viaJoinedName })));
      expect(rows.map((r) => r.path)).toEqual(['pauls']);
      const negated = await database.db
        .select({ path: fileSystem.path })
        .from(fileSystem)
        .leftJoin(users, eq(users.id, fileSystem.createdById))
        .where(searchCondition('-user:Paul', options({ userMatch: viaJoinedName })));
      // The join gives NULL for "nobody"; the negation still keeps it.
      expect(negated.map((r) => r.path).sort()).toEqual(['mine', 'nobody', 'odd']);
      expect(await matching('user:x', { userMatch: () => sql`null` })).toEqual([]);
      expect(await matching('-user:x', { userMatch: () => sql`null` })).toEqual(['mine', 'nobody', 'odd', 'pauls']);
    });

    it('the default EXISTS also works when the caller joins users itself', async () => {
      const rows = await database.db
        .select({ path: fileSystem.path, email: users.email })
        .from(fileSystem)
        .leftJoin(users, eq(users.id, fileSystem.createdById))
        .where(searchCondition('user:dupont', options()));
      expect(rows).toEqual([{ path: 'pauls', email: 'paul.d@example.com' }]);
    });
  });

  describe('type: and ref:', () => {
    beforeAll(async () => {
      await seed([
        { path: 'dest', type: 'hog_function/destination', ref: '1' },
        { path: 'internal', type: 'hog_function/internal_destination', ref: '2' },
        { path: 'transform', type: 'hog_function/transformation', ref: '3' },
        { path: 'plain destination', type: 'destination', ref: '4' },
        { path: 'flag', type: 'feature_flag', ref: '42' },
        { path: 'folder', type: 'folder', ref: null },
        { path: 'pct', type: 'a%b/c', ref: 'x_y' },
        { path: 'upper', type: 'Feature_Flag', ref: 'X_Y' },
      ]);
    });

    it('type:<x>/ is a prefix match', async () => {
      expect(await matching('type:hog_function/')).toEqual(['dest', 'internal', 'transform']);
      expect(await matching('type:hog/')).toEqual([]);
      // LIKE metacharacters in the prefix are literal; the prefix is case-sensitive, like Django's startswith.
      expect(await matching('type:a%b/')).toEqual(['pct']);
      expect(await matching('type:%/')).toEqual([]);
      expect(await matching('type:HOG_FUNCTION/')).toEqual([]);
    });

    it('type:<hog function type> means hog_function/<type>', async () => {
      expect(HOG_FUNCTION_TYPES).toContain('internal_destination');
      expect(await matching('type:destination')).toEqual(['dest']);
      expect(await matching('type:internal_destination')).toEqual(['internal']);
      expect(await matching('type:transformation')).toEqual(['transform']);
      expect(await matching('-type:destination type:hog_function/')).toEqual(['internal', 'transform']);
    });

    it('type:<other> is an exact, case-sensitive match', async () => {
      expect(await matching('type:feature_flag')).toEqual(['flag']);
      expect(await matching('type:feature')).toEqual([]);
      expect(await matching('type:feature_fla_')).toEqual([]);
      expect(await matching('-type:folder')).toEqual(['dest', 'flag', 'internal', 'pct', 'plain destination', 'transform', 'upper']);
    });

    it('ref: is an exact match, and negated it keeps rows without a ref', async () => {
      expect(await matching('ref:42')).toEqual(['flag']);
      expect(await matching('ref:4')).toEqual(['plain destination']);
      expect(await matching('ref:x_y')).toEqual(['pct']);
      expect(await matching('ref:x%')).toEqual([]);
      expect(await matching('-ref:42')).toEqual(['dest', 'folder', 'internal', 'pct', 'plain destination', 'transform', 'upper']);
    });
  });

  describe('negation', () => {
    beforeAll(async () => {
      await seed([
        { path: 'a/report', type: 'insight', ref: '1', createdById: me },
        { path: 'a/draft report', type: 'insight', ref: null, createdById: null },
        { path: 'b/other', type: 'folder', ref: null, createdById: paul },
      ]);
    });

    it('excludes what the token matches, with - or !', async () => {
      expect(await matching('report -draft')).toEqual(['a/report']);
      expect(await matching('report !draft')).toEqual(['a/report']);
      expect(await matching('-report')).toEqual(['b/other']);
      expect(await matching('-name:report -path:b')).toEqual([]);
    });

    it('never yields NULL, so NOT of the whole condition is its complement', async () => {
      for (const query of ['ref:1', '-ref:1', 'user:me', '-user:me', 'user:paul', '-user:paul', 'ref:1 user:me', 'report -ref:2']) {
        const condition = searchCondition(query, options())!;
        const [nulls] = await database.db.select({ count: sql<number>`count(*)::int` }).from(fileSystem).where(sql`(${condition}) is null`);
        expect(nulls!.count, query).toBe(0);
        const [both] = await database.db
          .select({ count: sql<number>`count(*)::int` })
          .from(fileSystem)
          .where(sql`(${condition}) or not (${condition})`);
        expect(both!.count, query).toBe(3);
      }
    });
  });

  describe('user input is never LIKE or regex syntax', () => {
    const specials = [
      '100% done',
      '100 percent done',
      'snake_case',
      'snakeXcase',
      'back\\\\slash',
      'regex .* here',
      'regex xx here',
      'paren (open',
      'bracket [set',
      'caret ^start',
      'dollar end$',
      'pipe a|b',
      'plus a+b',
      'question a?',
      'brace {2}',
      'star ***',
      'x\\/y',
    ];
    const paths = specials.map((name) => `Specials/${name}`);

    beforeAll(async () => {
      await seed(paths.map((path) => ({ path, type: 'insight' })));
    });

    const only = (name: string) => [`Specials/${name}`];

    it.each<[string, string[]]>([
      ['%', only('100% done')],
      ['_', only('snake_case')],
      ['e_c', only('snake_case')],
      ['"\\"', [...only('back\\\\slash'), ...only('x\\/y')].sort()],
      ['.*', only('regex .* here')],
      ['(', only('paren (open')],
      ['[', only('bracket [set')],
      ['^', only('caret ^start')],
      ['$', only('dollar end$')],
      ['a|b', only('pipe a|b')],
      ['a+b', only('plus a+b')],
      ['a?', only('question a?')],
      ['{2}', only('brace {2}')],
      ['***', only('star ***')],
    ])('plain %j', async (query, expected) => {
      expect(await matching(query)).toEqual(expected);
    });

    it.each<[string, string[]]>([
      ['name:%', only('100% done')],
      ['name:.*', only('regex .* here')],
      ['name:(', only('paren (open')],
      ['name:[', only('bracket [set')],
      ['name:"a|b"', only('pipe a|b')],
      ['name:***', only('star ***')],
      ['name:^', only('caret ^start')],
      ['name:$', only('dollar end$')],
      ["name:'\\'", only('back\\\\slash')],
      ['name:x/y', only('x\\/y')],
      ['name:"(?i)"', []],
      ['name:\\\\d', []],
      ['path:(', []],
      ['path:.*', []],
    ])('name:/path: %j', async (query, expected) => {
      expect(await matching(query)).toEqual(expected);
    });

    it.each<[string, string[]]>([
      ['"specials/(open"', []],
      ['"specials/paren (open"', only('paren (open')],
      // Unescaped, "[" would be a syntax error and ".*" would match everything.
      ['"/["', []],
      ['"s/.*"', []],
      ['"ls/regex .*"', only('regex .* here')],
      ['"/paren ("', only('paren (open')],
      ['"x/y"', only('x\\/y')],
      // Inside double quotes "\/" keeps its backslash: a backslash followed by a slash (or by an escaped slash).
      ['"\\/"', only('x\\/y')],
      ['.*/', []],
      ['specials/100%', only('100% done')],
      ['"/star ***"', only('star ***')],
    ])('plain with a slash %j', async (query, expected) => {
      expect(await matching(query)).toEqual(expected);
    });

    it('search_name_only terms too', async () => {
      expect(await matching('.*', { searchNameOnly: true })).toEqual(only('regex .* here'));
      expect(await matching('[', { searchNameOnly: true })).toEqual(only('bracket [set'));
      expect(await matching('_', { searchNameOnly: true })).toEqual(only('snake_case'));
    });

    it('a NUL character matches nothing instead of failing', async () => {
      expect(await matching('a\u0000b')).toEqual([]);
      expect(await matching('-a\u0000b')).toEqual(paths.slice().sort());
      expect(await matching('name:\u0000 user:\u0000 ref:\u0000 type:\u0000')).toEqual([]);
    });
  });

  // -------------------------------------------------------------------------------------------------------------
  // The SQL against an independent model of the rules (splitPath segments, plain string operations).
  // -------------------------------------------------------------------------------------------------------------

  describe('agrees with a model of the rules on random paths and queries', () => {
    interface ModelRow {
      path: string;
      type: string;
      ref: string | null;
      createdById: number | null;
    }

    const lower = (s: string) => s.toLowerCase();
    const contains = (haystack: string, needle: string) => lower(haystack).includes(lower(needle));
    const jsRegexEscape = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
    const people = (): Record<number, { name: string; email: string }> => ({
      [me]: { name: 'Searching Self', email: 'me@example.com' },
      [paul]: { name: 'Paul Dupont', email: 'paul.d@example.com' },
      [odd]: { name: 'Pct%Name Under_Score', email: 'odd\\user@example.com' },
    });

    function modelToken(row: ModelRow, token: SearchToken, nameOnly: boolean): boolean {
      const segments = splitPath(row.path);
      const { value } = token;
      switch (token.field) {
        case 'path':
          return segments.slice(0, -1).some((segment) => contains(segment, value));
        case 'name':
          return segments.length > 0 && contains(segments.at(-1)!, value);
        case 'user': {
          if (lower(value) === 'me') return row.createdById === me;
          const person = row.createdById === null ? undefined : people()[row.createdById];
          return !!person && (contains(person.name, value) || contains(person.email, value));
        }
        case 'type':
          if (value.endsWith('/')) return row.type.startsWith(value);
          if (HOG_FUNCTION_TYPES.includes(value)) return row.type === `hog_function/${value}`;
          return row.type === value;
        case 'ref':
          return row.ref === value;
        case null: {
          if (value.includes(':')) return contains(row.path, value) || contains(row.type, value);
          if (nameOnly) return segments.length > 0 && contains(segments.at(-1)!, value);
          if (value.includes('/')) {
            const regex = new RegExp(value.split('/').map(jsRegexEscape).join('(?:/|\\\\/)'), 'i');
            return regex.test(row.path) || regex.test(row.type);
          }
          return contains(row.path, value) || contains(row.type, value);
        }
      }
    }

    function modelMatches(row: ModelRow, query: string, nameOnly: boolean): boolean {
      return parseSearch(query).every((token) => modelToken(row, token, nameOnly) !== token.negated);
    }

    /** A small deterministic PRNG (mulberry32), so a failure reproduces. */
    function prng(seed: number) {
      let a = seed;
      return () => {
        a = (a + 0x6d2b79f5) | 0;
        let t = Math.imul(a ^ (a >>> 15), 1 | a);
        t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
        return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
      };
    }

    it('for every rule', async () => {
      const random = prng(20240611);
      const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
      const pathChars = ['a', 'B', 'c', '/', '/', '\\', '\\/', '\\\\', '%', '_', '.', '*', '(', '[', ' ', 'x', 'é'];
      const text = (chars: readonly string[], max: number) => Array.from({ length: Math.floor(random() * max) }, () => pick(chars)).join('');
      const types = ['folder', 'insight', 'hog_function/destination', 'hog_function/source', 'a_b', 'A%B/c'];
      const refs = [null, '1', 'a_b', '%'];
      const rows: ModelRow[] = [];
      for (let i = 0; i < 60; i += 1) {
        rows.push({ path: text(pathChars, 10) || 'a', type: pick(types), ref: pick(refs), createdById: pick([null, me, paul, odd]) });
      }
      await database.db.delete(fileSystem);
      await database.db.insert(fileSystem).values(rows.map((row, i) => ({ id: randomUUID(), teamId, projectId, ...row, depth: i })));

      const valueChars = ['a', 'b', 'C', 'x', '/', '\\', '%', '_', '.', '*', '(', '[', '|', ' ', ':', 'e', 'p'];
      const prefixes = ['', '', '', '-', '!', 'path:', 'name:', 'user:', 'author:', 'type:', 'ref:', '-path:', '-name:', '!user:', '-ref:', 'foo:'];
      const fixedValues = ['me', 'paul', 'destination', 'hog_function/', 'A%B/', 'a_b', '%', '1', 'folder', 'ex'];
      let compared = 0;
      for (let i = 0; i < 250; i += 1) {
        const tokens = Array.from({ length: 1 + Math.floor(random() * 3) }, () => {
          const value = random() < 0.25 ? pick(fixedValues) : text(valueChars, 4);
          // Quote the value so spaces, backslashes and quotes reach the rules as they are.
          return `${pick(prefixes)}'${value}'`;
        });
        const query = tokens.join(' ');
        for (const searchNameOnly of [false, true]) {
          const condition = searchCondition(query, options({ searchNameOnly }));
          const got = await database.db
            .select({ depth: fileSystem.depth })
            .from(fileSystem)
            .where(condition);
          const expected = rows.flatMap((row, index) => (modelMatches(row, query, searchNameOnly) ? [index] : []));
          expect(got.map((r) => r.depth).sort((x, y) => x! - y!), `${JSON.stringify(query)} nameOnly=${searchNameOnly}`).toEqual(expected);
          compared += 1;
        }
      }
      expect(compared).toBe(500);
    });
  });
});
