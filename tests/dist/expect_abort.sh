#!/bin/sh
# tests/dist/expect_abort.sh MPIEXEC TESTS — a rank that throws must end the whole job, with its error.
#
# Runs the hidden test "[.dist-throws]" on 2 ranks: rank 1 throws while rank 0 waits for it in a
# collective. dist::abort_on_error must print the error and call MPI_Abort, so that mpirun ends
# rank 0 too and fails. Without it, rank 0 would wait for ever: the 60 s limit turns that hang
# into a failure (exit 124) instead of a stuck test run.
mpiexec="$1"
tests="$2"
out=$(timeout 60 "$mpiexec" -np 2 "$tests" "[.dist-throws]" 2>&1)
rc=$?
echo "$out"
if [ "$rc" -eq 124 ]; then
  echo "expect_abort: FAILED: the job still ran after 60 s (a rank is waiting for the one that threw)"
  exit 1
fi
if [ "$rc" -eq 0 ]; then
  echo "expect_abort: FAILED: the job exited 0, though rank 1 threw"
  exit 1
fi
case "$out" in
  *"rank 1 of 2: error: rank 1 could not read its batch"*) ;;
  *) echo "expect_abort: FAILED: the output does not carry rank 1's error"; exit 1 ;;
esac
echo "expect_abort: ok: exit $rc, with rank 1's error"
