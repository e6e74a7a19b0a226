import { setTimeout as sleep } from 'node:timers/promises';
import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { exactlyOnceViolations, log, seededRandom, seedAudience, useRig, waitFor, type Json, type Rig, type WorkerProcess } from './rig.js';

// A list of 2,000 enrolled as one bulk enrollment job (a welcome email at once, a follow-up one minute
// later) while the worker process is SIGKILLed at random points: while the job's relay is still
// making enrollments and starting journeys and the welcome emails go out, then while journeys sleep or
// send the follow-up. The staged rows, timers and state live in PostgreSQL and Temporal, so a new
// worker process carries on: every contact enrolled once, one email per step each.

const TOTAL = 2_000;
const STEPS = [
  { subject: 'Welcome aboard', delayValue: 0 },
  { subject: 'One minute in', delayValue: 1 },
];
let rig: Rig;

useRig((started) => (rig = started));

const emailsWithSubject = (subject: string) => rig.fake.emails.filter((e) => e.payload.subject === subject).length;

describe('sequences while the worker is killed', () => {
  it('enrolls a 2,000-contact list once and completes every two-step journey with exactly one email per step although the worker process is SIGKILLed at random points', async () => {
    const random = seededRandom('sequence worker kills');

    const { listId, addresses } = await seedAudience(rig, TOTAL, 'journey');
    const created = await rig.call('POST', '/sequences', { body: { name: 'Onboarding under fire', sendingConfigId: rig.configId } });
    expect(created.status, created.text).toBe(201);
    const sequenceId: number = created.body.data.id;
    for (const step of STEPS) {
      const res = await rig.call('POST', `/sequences/${sequenceId}/steps`, { body: { ...step, html: '<p>Hi {{ firstName }}</p>', delayUnit: 'minutes' } });
      expect(res.status, res.text).toBe(201);
    }

    let worker: WorkerProcess = await rig.startWorker();
    // The request stages the list and answers at once; the relay in the worker enrolls and starts.
    const answer = await rig.call('POST', `/sequences/${sequenceId}/enroll`, { body: { listId } });
    expect(answer.status, answer.text).toBe(202);
    expect(answer.body.data).toMatchObject({ status: 'running', total: TOTAL });
    const job = async () => (await rig.call('GET', `/enrollment-jobs/${answer.body.data.id}`)).body.data as Json;

    // Two kills (each costs the work in flight a heartbeat or workflow-task timeout, and 2,000 journeys
    // already fill both cores): a random while after the job started its first journeys, before it
    // started them all, and a random while after the first follow-up went out.
    const accepted = () => rig.fake.emails.length;
    const done = () => accepted() >= TOTAL * STEPS.length;
    for (let n = 1; n <= 2; n++) {
      const ready = n === 1 ? async () => (await job()).started > 0 : async () => emailsWithSubject(STEPS[1]!.subject) > 0 || done();
      await waitFor(`progress before kill ${n}`, ready, 300_000, 100);
      const delayMs = random.between(200, n === 1 ? 2_000 : 5_000);
      await sleep(delayMs);
      const counts = `${emailsWithSubject(STEPS[0]!.subject)} welcome, ${emailsWithSubject(STEPS[1]!.subject)} follow-up emails`;
      const midway = !done();
      const { started } = await job();
      await worker.kill();
      log(`worker ${n} SIGKILLed ${delayMs} ms after progress; job: ${started} of ${TOTAL} journeys started; ${counts}${midway ? '' : ' (all sent already)'}`);
      expect(midway, 'the kill happened while journeys were still running').toBe(true);
      if (n === 1) expect(started, 'the first kill happened while the bulk enrollment was starting journeys').toBeLessThan(TOTAL);
      worker = await rig.startWorker();
    }

    const statusCounts = async () => {
      const rows = await rig.db.execute<{ status: string; n: number }>(
        sql`select status::text, count(*)::int as n from enrollments where sequence_id = ${sequenceId} group by status`,
      );
      return Object.fromEntries(rows.rows.map((r) => [r.status, r.n])) as Record<string, number>;
    };
    // Generous: 2,000 journeys take minutes on two busy cores. A stall (no email for 3 minutes) fails early.
    let last: Record<string, number> = {};
    let lastAccepted = accepted();
    let progressAt = Date.now();
    await waitFor(
      'every journey to complete',
      async () => {
        last = await statusCounts();
        if (accepted() !== lastAccepted) [lastAccepted, progressAt] = [accepted(), Date.now()];
        if (Date.now() - progressAt > 180_000) throw new Error('no email accepted for 3 minutes');
        return last.completed === TOTAL;
      },
      720_000,
      500,
    ).catch((err: Error) => {
      throw new Error(`${err.message}: enrollments ${JSON.stringify(last)}, ${accepted()} emails accepted\nworker output (tail):\n${worker.output().slice(-6_000)}`);
    });
    log(`all ${TOTAL} journeys completed; ${accepted()} emails accepted`);
    // The job counted every contact once: all enrolled and started, nothing set aside.
    expect(await job()).toMatchObject({ status: 'completed', total: TOTAL, enrolled: TOTAL, started: TOTAL, alreadyActive: 0, skipped: 0, notFound: 0, progress: 1 });
    expect(worker.child.exitCode, 'the last worker is still running').toBeNull();

    // Every journey: completed, two steps recorded as sent, two send rows sent.
    expect(await statusCounts()).toEqual({ completed: TOTAL });
    const steps = await rig.db.execute<{ per: number; outcomes: string; n: number }>(sql`
      select per, outcomes, count(*)::int as n from (
        select e.id, count(s.*)::int as per, string_agg(s.outcome::text, ',' order by s.seq) as outcomes
        from enrollments e left join enrollment_steps s on s.enrollment_id = e.id
        where e.sequence_id = ${sequenceId} group by e.id
      ) t group by per, outcomes`);
    expect(steps.rows).toEqual([{ per: 2, outcomes: 'sent,sent', n: TOTAL }]);
    const sends = await rig.db.execute<{ status: string; n: number }>(
      sql`select status::text, count(*)::int as n from sends where sequence_id = ${sequenceId} group by status`,
    );
    expect(Object.fromEntries(sends.rows.map((r) => [r.status, r.n]))).toEqual({ sent: TOTAL * STEPS.length });

    // The API agrees: nothing active, every enrollment completed.
    const listed = await rig.call('GET', `/sequences/${sequenceId}/enrollments?status=completed&limit=1`);
    expect(listed.status, listed.text).toBe(200);
    expect((listed.body as Json).pagination.total).toBe(TOTAL);

    // At the provider: exactly one accepted message per contact and step, and nothing else.
    const expected = addresses.flatMap((a) => STEPS.map((s) => `${a}|${s.subject}`));
    expect(exactlyOnceViolations(rig.fake.emails, expected, (to, e) => `${to}|${e.payload.subject}`).slice(0, 20)).toEqual([]);
  }, 900_000);
});
