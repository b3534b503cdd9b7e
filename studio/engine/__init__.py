"""The engine: the worker side of a take, from the queue to a stored video.

A take's walk, one module at a time (each step runs under a lease, ends by
saving what it learned, and schedules the next wake-up; tasks carry only ids):

- ``advance``  — a task's entry: reads the row and picks the step.
- ``local``    — Slate's own renderer (the animatic): claim, render, store.
- ``edits``    — Slate's own media work on takes it has (re-cut, loop, blend), and the
  join that finishes a chained extend (parent, then continuation), locally or remotely.
- ``submit``   — remote providers: create the job exactly once, reconcile a
  create whose answer was lost.
- ``follow``   — watch (live events), poll or trust a webhook; act on the job's state.
- ``watcher``  — one thread per process that follows every live take (ComfyUI's
  websockets) at once, under their leases, and wakes a take the moment its job ends.
- ``pacing``   — when to look next, back-off, letting go of a lease.
- ``download`` — copy the provider's bytes unchanged into storage, then complete.
- ``leases``   — who works on a take until when; ``sweep`` heals what dead
  workers and lost tasks left behind; ``worker`` hosts the task threads.
- ``calls``    — what a provider is handed: the job and a client wired to the lease.
- ``errors``   — the one error family the steps catch, and the one failing path.

Only the engine writes a take's engine fields (lease, remote job, counters,
progress); the lifecycle (``studio.takes``) owns the transitions.
"""
