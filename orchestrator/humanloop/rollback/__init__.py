"""Roll a run back to a prior step: undo the later steps' external writes, newest first.

Every write a step made is recorded with its before- and after-image. The
``RollbackWorkflow`` takes the writes of the steps after the chosen one, newest first,
and for each object reads what the tool shows now:

* if it still shows our after-image, the before-image is put back through the
  connector (a record or item we created is deleted, one we updated gets its old values
  back, a Slack message we posted is deleted) and the object is read again to check it
  now matches the before-image;
* if it already shows the before-image, there is nothing left to do (a retried undo);
* otherwise a person changed it after our write: that is a **conflict**, the object is
  left untouched and reported, and the rollback ends ``escalated`` so a person decides.

Some writes cannot be undone through the connectors: a Linear issue we created (the
Linear connector does not delete issues) and any delete. They are reported as
``not_undoable`` with what to do by hand, and also end the rollback ``escalated``.

The rollback is a traced run of its own (kind ``rollback``, ``parent_run_id`` = the run
rolled back); each undo is an activity whose own writes are captured like a step's.
Only a rollback with nothing left over marks the original run ``rolled_back``.

Split by role: ``plan`` (pure, reads the store), ``activities``, ``workflow``, ``starter``;
each tool's undo is in its adapter (:mod:`orchestrator.tools.registry`).
"""
