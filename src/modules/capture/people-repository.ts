import { and, eq } from 'drizzle-orm';
import type { Db } from '../../db/client.js';
import { personDistinctIds, persons } from '../../db/schema/index.js';
import { newUuid } from '../../lib/ids.js';
import type { CapturedEvent } from './events.js';
import { applyPersonUpdate, changesProperties, identifiedAnonymousId, personUpdate } from './person-updates.js';

interface PersonState {
  id: number;
  properties: Record<string, unknown>;
  isIdentified: boolean;
  changed: boolean;
}

/**
 * Persons, updated inside the transaction that stores a request's new events, so a retried request changes nothing
 * twice.
 */
export function peopleWriter(tx: Db, teamId: number) {
  const known = new Map<string, PersonState>();

  async function find(distinctId: string): Promise<PersonState | null> {
    const cached = known.get(distinctId);
    if (cached) return cached;
    const [row] = await tx
      .select({ id: persons.id, properties: persons.properties, isIdentified: persons.isIdentified })
      .from(personDistinctIds)
      .innerJoin(persons, eq(persons.id, personDistinctIds.personId))
      .where(and(eq(personDistinctIds.teamId, teamId), eq(personDistinctIds.distinctId, distinctId)))
      .for('update', { of: persons });
    if (!row) return null;
    const state = [...known.values()].find((p) => p.id === row.id) ?? { ...row, changed: false };
    known.set(distinctId, state);
    return state;
  }

  /** Gives the person another distinct id; answers false when another request gave that id a person first. */
  async function attach(distinctId: string, person: PersonState): Promise<boolean> {
    const added = await tx.insert(personDistinctIds).values({ teamId, distinctId, personId: person.id }).onConflictDoNothing().returning();
    if (added.length === 0) return false;
    known.set(distinctId, person);
    return true;
  }

  async function findOrCreate(distinctId: string): Promise<PersonState> {
    const existing = await find(distinctId);
    if (existing) return existing;
    const [created] = await tx.insert(persons).values({ uuid: newUuid(), teamId, properties: {} }).returning({ id: persons.id });
    const person: PersonState = { id: created!.id, properties: {}, isIdentified: false, changed: false };
    if (await attach(distinctId, person)) return person;
    await tx.delete(persons).where(eq(persons.id, person.id));
    return (await find(distinctId))!;
  }

  /** The anonymous person's ids and properties move to the identified one (whose own properties win). */
  async function merge(from: PersonState, into: PersonState): Promise<void> {
    into.properties = { ...from.properties, ...into.properties };
    into.changed = true;
    await tx.update(personDistinctIds).set({ personId: into.id }).where(eq(personDistinctIds.personId, from.id));
    await tx.delete(persons).where(eq(persons.id, from.id));
    for (const [distinctId, state] of known) if (state === from) known.set(distinctId, into);
  }

  /** `$identify` with `$anon_distinct_id`: one person for both ids, as PostHog merges them. */
  async function identify(distinctId: string, anonymousId: string): Promise<PersonState> {
    const [identified, anonymous] = [await find(distinctId), await find(anonymousId)];
    let person: PersonState;
    if (!identified && anonymous) {
      person = anonymous;
      if (!(await attach(distinctId, person))) person = (await find(distinctId))!;
    } else {
      person = identified ?? (await findOrCreate(distinctId));
      if (!anonymous) await attach(anonymousId, person);
      else if (anonymous.id !== person.id && !anonymous.isIdentified) await merge(anonymous, person);
    }
    if (!person.isIdentified) Object.assign(person, { isIdentified: true, changed: true });
    return person;
  }

  return {
    /** Every event in time order: its person made or found, merged on `$identify`, its `$set`s applied. */
    async applyEvents(events: CapturedEvent[]): Promise<void> {
      const ordered = [...events].sort((a, b) => a.timestamp.localeCompare(b.timestamp));
      for (const event of ordered) {
        const anonymousId = identifiedAnonymousId(event);
        const person = anonymousId ? await identify(event.distinctId, anonymousId) : await findOrCreate(event.distinctId);
        const update = personUpdate(event);
        if (changesProperties(update)) {
          person.properties = applyPersonUpdate(person.properties, update);
          person.changed = true;
        }
      }
      for (const person of new Set(known.values())) {
        if (!person.changed) continue;
        await tx.update(persons).set({ properties: person.properties, isIdentified: person.isIdentified }).where(eq(persons.id, person.id));
      }
    },
  };
}
