/**
 * What this project assumes about Zester beyond the scaling guide, in one place so it is easy
 * to adapt when Zester documents it.
 */

/** Subjects of the `job-events` stream, used only when the stream does not exist yet. */
export const JOB_EVENTS_SUBJECTS = ["zester.job-events.>"];
