/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test-oci-hook.c - the OCI hook's input and files: real state JSON captured from runc
 * (tests/fixtures/oci/), malformed state (each error names the field), the annotations, policy
 * names and policy text (accepted by the daemon's parser, the cgroup matched exactly), and whole
 * runs on scratch directories: nothing written on bad input, poststop removal, stale records
 * pruned, the sharing-group refusal, and the program's exit status 0 for every input.  No
 * injection happens here (no run reaches it); that is tests/integration/test-oci.sh.
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "fixture.h"
#include "json-util.h"
#include "macro.h"
#include "oci-hook.h"
#include "policy.h"
#include "proc-stat.h"

/* Helpers */

static void parse_fixture(const char *rel, bool need_pid, OciState *s) {
        _cleanup_free_ char *text = fixture_read(rel);
        char error[512];
        int r;

        r = oci_state_parse(text, strlen(text), need_pid, s, error, sizeof(error));
        if (r < 0)
                fail_msg("%s: %s", rel, error);
}

static void expect_parse_error(const char *text, bool need_pid, const char *expected) {
        OciState s = {};
        char error[512];
        int r;

        r = oci_state_parse(text, strlen(text), need_pid, &s, error, sizeof(error));
        if (r != -EINVAL)
                fail_msg("input %s: expected -EINVAL, got %d", text, r);
        if (!streq(error, expected))
                fail_msg("input %s:\n  expected: %s\n  got:      %s", text, expected, error);
        assert_null(s.id);
}

/* Runs one stage on @input with the scratch directories DIR/p (policies) and DIR/s (state). */
static void run_stage(const char *dir, OciStage stage, const char *input, OciHookReport *rep) {
        _cleanup_free_ char *p = NULL, *s = NULL, *sock = NULL;
        OciHookConfig c;
        int fds[2];

        assert_true(asprintf(&p, "%s/p", dir) > 0 && asprintf(&s, "%s/s", dir) > 0 &&
                    asprintf(&sock, "%s/no-daemon.sock", dir) > 0);
        oci_hook_config_init(&c);
        c.policy_dir = p;
        c.state_dir = s;
        c.socket_path = sock;
        c.timeout_usec = 2 * USEC_PER_SEC;
        assert_se(pipe2(fds, O_CLOEXEC) == 0);
        assert_se(write(fds[1], input, strlen(input)) == (ssize_t) strlen(input));
        close(fds[1]);
        assert_int_equal(oci_hook_run(&c, stage, fds[0], rep), 0);
        close(fds[0]);
}

/* Number of entries in DIR/SUB other than "." and ".." and the lock file; -1 if it does not exist. */
static int count_files(const char *dir, const char *sub) {
        _cleanup_free_ char *cmd = NULL;
        char path[512];
        int n;

        snprintf(path, sizeof(path), "%s/%s", dir, sub);
        if (access(path, F_OK) < 0)
                return -1;
        assert_true(asprintf(&cmd, "find '%s' -mindepth 1 ! -name .lock | wc -l", path) > 0);
        {
                FILE *f = popen(cmd, "re");
                assert_non_null(f);
                assert_int_equal(fscanf(f, "%d", &n), 1);
                pclose(f);
        }
        return n;
}

static void assert_nothing_written(const char *dir) {
        assert_true(count_files(dir, "p") <= 0);
        assert_true(count_files(dir, "s") <= 0);
}

static bool file_exists(const char *dir, const char *rel) {
        char path[512];

        snprintf(path, sizeof(path), "%s/%s", dir, rel);
        return access(path, F_OK) == 0;
}

/* Real runc state */

static void test_parse_runc_create_runtime(void **state) {
        _cleanup_(oci_state_done) OciState s = {};

        parse_fixture("oci/runc-1.1.5-createRuntime.json", true, &s);
        assert_string_equal(s.oci_version, "1.0.2-dev");
        assert_string_equal(s.id, "ksmt-capture-1");
        assert_string_equal(s.status, "creating");
        assert_int_equal(s.pid, 945);
        assert_string_equal(s.bundle, "/tmp/ksmt-capture.OORhSh/bundle");
        assert_int_equal(s.request, OCI_REQUEST_MERGE);
        assert_string_equal(s.group, "tenant-a");
}

static void test_parse_runc_poststop(void **state) {
        _cleanup_(oci_state_done) OciState s = {};
        _cleanup_free_ char *text = fixture_read("oci/runc-1.1.5-poststop.json");

        parse_fixture("oci/runc-1.1.5-poststop.json", false, &s);
        assert_string_equal(s.id, "ksmt-capture-1");
        assert_string_equal(s.status, "stopped");
        assert_int_equal(s.pid, 0);
        assert_int_equal(s.request, OCI_REQUEST_MERGE);
        /* The same file is not a valid createRuntime state: it has no pid. */
        expect_parse_error(text, true, "state.pid: missing (createRuntime needs the container's init process)");
}

static void test_parse_runc_no_annotations(void **state) {
        _cleanup_(oci_state_done) OciState s = {};

        parse_fixture("oci/runc-1.1.5-createRuntime-no-annotations.json", true, &s);
        assert_string_equal(s.id, "ksmt-capture-2");
        assert_int_equal(s.pid, 990);
        assert_int_equal(s.request, OCI_REQUEST_NONE);
        assert_null(s.group);
}

static void test_parse_podman(void **state) {
        _cleanup_free_ char *path = fixture_path("oci/podman-4.3.1-createRuntime.json");
        _cleanup_(oci_state_done) OciState s = {};

        parse_fixture("oci/podman-4.3.1-createRuntime.json", true, &s);
        assert_int_equal(strlen(s.id), 64);
        assert_true(s.pid > 0);
        assert_int_equal(s.request, OCI_REQUEST_MERGE);
        assert_string_equal(s.group, "tenant-a");
}

/* Malformed state */

static void test_parse_malformed(void **state) {
        static const struct {
                const char *input, *error;
        } cases[] = {
                { "not json", "state: not valid JSON at line 1, column 3: '[' or '{' expected near 'not'" },
                { "{\"id\":\"x\",", "state: not valid JSON at line 1, column 10: string or '}' expected near end of file" },
                { "[1,2]", "state: expected a JSON object at the top level, got an array" },
                { "{\"id\":\"x\",\"pid\":1} {}", "state: not valid JSON at line 1, column 20: end of file expected near '{'" },
                { "{\"id\":\"x\",\"id\":\"y\",\"pid\":1}", "state: not valid JSON at line 1, column 14: duplicate object key near '\"id\"'" },
                { "{\"pid\":12}", "state.id: missing (the runtime must pass the container state on stdin)" },
                { "{\"id\":\"\",\"pid\":12}", "state.id: expected a non-empty string" },
                { "{\"id\":7,\"pid\":12}", "state.id: expected a string, got an integer" },
                { "{\"id\":\"x\"}", "state.pid: missing (createRuntime needs the container's init process)" },
                { "{\"id\":\"x\",\"pid\":null}", "state.pid: missing (createRuntime needs the container's init process)" },
                { "{\"id\":\"x\",\"pid\":\"12\"}", "state.pid: expected a positive integer, got a string" },
                { "{\"id\":\"x\",\"pid\":12.5}", "state.pid: expected a positive integer, got a number with a fraction" },
                { "{\"id\":\"x\",\"pid\":0}", "state.pid: expected a positive integer, got 0" },
                { "{\"id\":\"x\",\"pid\":-4}", "state.pid: expected a positive integer, got -4" },
                { "{\"id\":\"x\",\"pid\":4294967296}", "state.pid: expected a positive integer, got 4294967296" },
                { "{\"id\":\"x\",\"pid\":1,\"status\":1}", "state.status: expected a string, got an integer" },
                { "{\"id\":\"x\",\"pid\":1,\"ociVersion\":[]}", "state.ociVersion: expected a string, got an array" },
                { "{\"id\":\"x\",\"pid\":1,\"bundle\":false}", "state.bundle: expected a string, got a boolean" },
                { "{\"id\":\"x\",\"pid\":1,\"annotations\":[]}", "state.annotations: expected an object, got an array" },
                { "{\"id\":\"x\",\"pid\":1,\"annotations\":{\"io.ksmtuned.merge\":true}}",
                  "state.annotations[\"io.ksmtuned.merge\"]: expected \"true\" or \"false\", got a boolean" },
                { "{\"id\":\"x\",\"pid\":1,\"annotations\":{\"io.ksmtuned.merge\":\"yes\"}}",
                  "state.annotations[\"io.ksmtuned.merge\"]: expected \"true\" or \"false\", got \"yes\"" },
                { "{\"id\":\"x\",\"pid\":1,\"annotations\":{\"io.ksmtuned.group\":3}}",
                  "state.annotations[\"io.ksmtuned.group\"]: expected a group name, got an integer" },
                { "{\"id\":\"x\",\"pid\":1,\"annotations\":{\"io.ksmtuned.group\":\"a b\"}}",
                  "state.annotations[\"io.ksmtuned.group\"]: expected 1 to 63 characters of A-Z, a-z, 0-9, \"_\", \".\", \"-\" "
                  "(not starting with \".\" or \"-\"), got \"a b\"" },
                { "", "state: empty input (the runtime must pass the container state on stdin)" },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++)
                expect_parse_error(cases[i].input, true, cases[i].error);
}

static void test_parse_tolerant(void **state) {
        /* Unknown keys (crun's "root"), other annotations and non-string values of other
         * annotations are none of our business. */
        static const char text[] = "{\"ociVersion\":\"1.0.2\",\"id\":\"c\",\"status\":\"created\",\"pid\":42,"
                                   "\"root\":\"rootfs\",\"annotations\":{\"org.other\":\"1\",\"io.ksmtuned.merge\":\"true\"}}";
        _cleanup_(oci_state_done) OciState s = {};
        char error[512];

        assert_int_equal(oci_state_parse(text, strlen(text), true, &s, error, sizeof(error)), 0);
        assert_int_equal(s.pid, 42);
        assert_int_equal(s.request, OCI_REQUEST_MERGE);
        assert_string_equal(s.group, OCI_GROUP_DEFAULT);
}

static void test_annotations(void **state) {
        static const struct {
                const char *annotations;
                OciRequest request;
                const char *group;
        } cases[] = {
                { "{}", OCI_REQUEST_NONE, NULL },
                { "{\"io.ksmtuned.merge\":\"true\"}", OCI_REQUEST_MERGE, "default" },
                { "{\"io.ksmtuned.merge\":\"false\"}", OCI_REQUEST_NEVER, NULL },
                { "{\"io.ksmtuned.group\":\"web\"}", OCI_REQUEST_MERGE, "web" },
                { "{\"io.ksmtuned.merge\":\"true\",\"io.ksmtuned.group\":\"t_1.b-c\"}", OCI_REQUEST_MERGE, "t_1.b-c" },
                { "{\"io.ksmtuned.merge\":\"false\",\"io.ksmtuned.group\":\"web\"}", OCI_REQUEST_NEVER, NULL },
                { "{\"io.ksmtuned.Merge\":\"true\"}", OCI_REQUEST_NONE, NULL },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_(oci_state_done) OciState s = {};
                _cleanup_free_ char *text = NULL;
                char error[512];

                assert_true(asprintf(&text, "{\"id\":\"c\",\"pid\":1,\"annotations\":%s}", cases[i].annotations) > 0);
                assert_int_equal(oci_state_parse(text, strlen(text), true, &s, error, sizeof(error)), 0);
                assert_int_equal(s.request, cases[i].request);
                if (cases[i].group)
                        assert_string_equal(s.group, cases[i].group);
                else
                        assert_null(s.group);
        }

        assert_true(oci_group_valid("a"));
        assert_true(oci_group_valid("abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_"));   /* 63 */
        assert_false(oci_group_valid("abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_x"));
        assert_false(oci_group_valid(""));
        assert_false(oci_group_valid(".hidden"));
        assert_false(oci_group_valid("a/b"));
        assert_false(oci_group_valid("a@b"));
        assert_false(oci_group_valid(NULL));
}

static void test_stage_names(void **state) {
        assert_int_equal(oci_stage_from_string("createRuntime"), OCI_STAGE_CREATE_RUNTIME);
        assert_int_equal(oci_stage_from_string("prestart"), OCI_STAGE_CREATE_RUNTIME);
        assert_int_equal(oci_stage_from_string("poststop"), OCI_STAGE_POSTSTOP);
        assert_int_equal(oci_stage_from_string("auto"), OCI_STAGE_AUTO);
        assert_int_equal(oci_stage_from_string("createContainer"), _OCI_STAGE_INVALID);
        assert_int_equal(oci_stage_from_string(NULL), _OCI_STAGE_INVALID);
        for (OciOutcome o = 0; o < _OCI_OUTCOME_MAX; o++)
                assert_non_null(oci_outcome_to_string(o));
}

/* Names and policy text */

static void test_policy_name(void **state) {
        static const char podman_id[] = "3f0e2b6c1d5a4978b0c1e2f3a4b5c6d7e8f90123456789abcdef0123456789ab";
        char long_id[200];
        char *name = NULL;

        assert_int_equal(oci_policy_name("ksmt-capture-1", &name), 0);
        assert_string_equal(name, "oci-ksmt-capture-1");
        free(name);
        assert_int_equal(oci_policy_name(podman_id, &name), 0);
        assert_int_equal(strlen(name), 68);
        free(name);
        /* runc allows "+" in ids; policy names do not: "@2b", injective since ids never hold "@". */
        assert_int_equal(oci_policy_name("a+b", &name), 0);
        assert_string_equal(name, "oci-a@2bb");
        free(name);
        assert_int_equal(oci_policy_name("x/y z", &name), 0);
        assert_string_equal(name, "oci-x@2fy@20z");
        free(name);

        assert_int_equal(oci_policy_name("", &name), -EINVAL);
        memset(long_id, 'a', 124);
        long_id[124] = 0;
        assert_int_equal(oci_policy_name(long_id, &name), 0);       /* 4 + 124 = 128 */
        free(name);
        long_id[124] = 'a';
        long_id[125] = 0;
        assert_int_equal(oci_policy_name(long_id, &name), -ENAMETOOLONG);
        memset(long_id, '+', 60);
        long_id[60] = 0;
        assert_int_equal(oci_policy_name(long_id, &name), -ENAMETOOLONG);       /* 4 + 180 */
}

static void test_policy_format(void **state) {
        OciState s = { .id = (char *) "c1", .request = OCI_REQUEST_MERGE, .group = (char *) "web" };
        _cleanup_free_ char *merge = NULL, *never = NULL, *odd = NULL;
        _cleanup_(policy_freep) Policy *p = NULL, *q = NULL, *o = NULL;
        JsonError err = {};

        assert_int_equal(oci_policy_format(&s, "/machine.slice/libpod-c1.scope", true, 1000, &merge), 0);
        assert_int_equal(policy_parse_string(merge, "oci-c1", "oci-c1.json", &p, &err), 0);
        assert_int_equal(p->action, POLICY_ACTION_MERGE);
        assert_int_equal(p->priority, 1000);
        assert_true(p->descendants);
        assert_int_equal(p->when_unmatched, POLICY_UNMATCHED_LEAVE);
        assert_non_null(strstr(p->description, "sharing group web"));
        assert_true(policy_matches_cgroup(p, "/machine.slice/libpod-c1.scope"));
        assert_true(policy_matches_cgroup(p, "/machine.slice/libpod-c1.scope/container"));
        assert_false(policy_matches_cgroup(p, "/machine.slice/libpod-c2.scope"));
        assert_false(policy_matches_cgroup(p, "/machine.slice"));

        assert_int_equal(oci_policy_format(&s, "/ksmt-c1", false, 1000, &never), 0);
        assert_int_equal(policy_parse_string(never, "oci-c1", "oci-c1.json", &q, &err), 0);
        assert_int_equal(q->action, POLICY_ACTION_NEVER);
        assert_non_null(strstr(q->description, "another sharing group"));

        /* Glob characters in a cgroup name are matched literally. */
        assert_int_equal(oci_policy_format(&s, "/a*b/[x]?\\", true, -5, &odd), 0);
        assert_int_equal(policy_parse_string(odd, "oci-c1", "oci-c1.json", &o, &err), 0);
        assert_true(policy_matches_cgroup(o, "/a*b/[x]?\\"));
        assert_false(policy_matches_cgroup(o, "/axb/x?\\"));
        assert_false(policy_matches_cgroup(o, "/a*b/[x]z\\"));
        assert_int_equal(o->priority, -5);
}

/* Whole runs on scratch directories */

static void test_run_malformed_writes_nothing(void **state) {
        const char *dir = *state;
        static const struct {
                const char *input, *field;
        } cases[] = {
                { "not json", "state: not valid JSON" },
                { "{\"id\":\"x\",\"annotations\":{\"io.ksmtuned.merge\":\"true\"}}", "state.pid: missing" },
                { "{\"id\":\"x\",\"pid\":\"1\",\"annotations\":{\"io.ksmtuned.merge\":\"true\"}}", "state.pid: expected" },
                { "{\"pid\":1,\"annotations\":{\"io.ksmtuned.merge\":\"true\"}}", "state.id: missing" },
                { "{\"id\":\"x\",\"pid\":1,\"annotations\":{\"io.ksmtuned.group\":\"\"}}", "state.annotations[\"io.ksmtuned.group\"]" },
                /* pid_max is at most 2^22: this PID cannot exist. */
                { "{\"id\":\"x\",\"pid\":4194305,\"annotations\":{\"io.ksmtuned.merge\":\"true\"}}",
                  "state.pid: cannot open process 4194305: No such process" },
                { "{\"id\":\"x\",\"pid\":4194305,\"annotations\":{\"io.ksmtuned.merge\":\"false\"}}",
                  "state.pid: cannot open process 4194305" },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                OciHookReport rep;

                run_stage(dir, OCI_STAGE_CREATE_RUNTIME, cases[i].input, &rep);
                assert_int_equal(rep.outcome, OCI_OUTCOME_ERROR);
                if (!strstr(rep.message, cases[i].field))
                        fail_msg("input %s: expected \"%s\" in \"%s\"", cases[i].input, cases[i].field, rep.message);
                assert_nothing_written(dir);
        }
}

static void test_run_no_annotation(void **state) {
        _cleanup_free_ char *text = fixture_read("oci/runc-1.1.5-createRuntime-no-annotations.json");
        const char *dir = *state;
        OciHookReport rep;

        /* PID 990 of the capture need not exist: without our annotations it is never looked at. */
        run_stage(dir, OCI_STAGE_CREATE_RUNTIME, text, &rep);
        assert_int_equal(rep.outcome, OCI_OUTCOME_NOTHING);
        assert_string_equal(rep.id, "ksmt-capture-2");
        assert_nothing_written(dir);
        run_stage(dir, OCI_STAGE_AUTO, text, &rep);
        assert_int_equal(rep.outcome, OCI_OUTCOME_NOTHING);
        assert_int_equal(rep.stage, OCI_STAGE_CREATE_RUNTIME);
        assert_nothing_written(dir);
}

static void test_run_poststop_removes(void **state) {
        _cleanup_free_ char *text = fixture_read("oci/runc-1.1.5-poststop.json");
        const char *dir = *state;
        OciHookReport rep;

        scratch_write(dir, "p/oci-ksmt-capture-1.json", "{\"cgroups\":[\"/ksmt-capture-1\"],\"descendants\":true}");
        scratch_write(dir, "p/other.json", "{\"cgroups\":[\"/x\"]}");
        scratch_write(dir, "s/oci-ksmt-capture-1.json", "{}");

        /* auto: "status":"stopped" makes it poststop. */
        run_stage(dir, OCI_STAGE_AUTO, text, &rep);
        assert_int_equal(rep.stage, OCI_STAGE_POSTSTOP);
        assert_int_equal(rep.outcome, OCI_OUTCOME_REMOVED);
        assert_string_equal(rep.message, "removed the runtime policy and the group record (daemon not told: No such file or directory)");
        assert_false(file_exists(dir, "p/oci-ksmt-capture-1.json"));
        assert_false(file_exists(dir, "s/oci-ksmt-capture-1.json"));
        assert_true(file_exists(dir, "p/other.json"));

        run_stage(dir, OCI_STAGE_POSTSTOP, text, &rep);
        assert_int_equal(rep.outcome, OCI_OUTCOME_NOTHING);
}

static void test_run_stale_records_pruned(void **state) {
        _cleanup_free_ char *text = fixture_read("oci/runc-1.1.5-poststop.json");
        const char *dir = *state;
        OciHookReport rep;
        ProcStat st;
        char live[256];
        pid_t child;
        int status;

        /* A record whose process is gone, one whose PID was reused (start time differs), and a
         * live one (this test process). */
        child = fork();
        assert_true(child >= 0);
        if (child == 0)
                _exit(0);
        assert_int_equal(waitpid(child, &status, 0), child);

        {
                char gone[256], reused[256];
                int fd = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

                assert_true(fd >= 0);
                assert_int_equal(proc_stat_read_at(fd, getpid(), &st), 0);
                close(fd);
                snprintf(gone, sizeof(gone), "{\"id\":\"gone\",\"group\":\"a\",\"pid\":%d,\"start_time\":1,\"cgroup\":\"/g\"}",
                         (int) child);
                snprintf(reused, sizeof(reused), "{\"id\":\"reused\",\"group\":\"a\",\"pid\":%d,\"start_time\":%" PRIu64
                         ",\"cgroup\":\"/r\"}", (int) getpid(), st.start_time_ticks + 1);
                snprintf(live, sizeof(live), "{\"id\":\"live\",\"group\":\"a\",\"pid\":%d,\"start_time\":%" PRIu64
                         ",\"cgroup\":\"/l\"}", (int) getpid(), st.start_time_ticks);
                scratch_write(dir, "s/oci-gone.json", gone);
                scratch_write(dir, "p/oci-gone.json", "{\"cgroups\":[\"/g\"]}");
                scratch_write(dir, "s/oci-reused.json", reused);
                scratch_write(dir, "p/oci-reused.json", "{\"cgroups\":[\"/r\"]}");
                scratch_write(dir, "s/oci-live.json", live);
                scratch_write(dir, "p/oci-live.json", "{\"cgroups\":[\"/l\"]}");
                scratch_write(dir, "s/oci-garbled.json", "{\"id\":");
        }

        /* Any hook run prunes: here the poststop of an unrelated container. */
        run_stage(dir, OCI_STAGE_POSTSTOP, text, &rep);
        assert_int_equal(rep.outcome, OCI_OUTCOME_NOTHING);
        assert_false(file_exists(dir, "s/oci-gone.json"));
        assert_false(file_exists(dir, "p/oci-gone.json"));
        assert_false(file_exists(dir, "s/oci-reused.json"));
        assert_false(file_exists(dir, "p/oci-reused.json"));
        assert_false(file_exists(dir, "s/oci-garbled.json"));
        assert_true(file_exists(dir, "s/oci-live.json"));
        assert_true(file_exists(dir, "p/oci-live.json"));
}

static void test_run_group_refused(void **state) {
        const char *dir = *state;
        _cleanup_free_ char *input = NULL;
        OciHookReport rep;
        ProcStat st;
        char live[256];
        pid_t child;
        int fd, status;

        /* Group "a" holds the host (a live record: this test process). */
        fd = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_true(fd >= 0);
        assert_int_equal(proc_stat_read_at(fd, getpid(), &st), 0);
        close(fd);
        snprintf(live, sizeof(live), "{\"id\":\"holder\",\"group\":\"a\",\"pid\":%d,\"start_time\":%" PRIu64
                 ",\"cgroup\":\"/holder\"}", (int) getpid(), st.start_time_ticks);
        scratch_write(dir, "s/oci-holder.json", live);

        /* A container of group "b" whose init is a child of ours: refused before any injection.
         * It shares our cgroup, so no "never" policy may be written for it either (it would
         * select the caller's own cgroup). */
        child = fork();
        assert_true(child >= 0);
        if (child == 0) {
                pause();
                _exit(0);
        }
        assert_true(asprintf(&input, "{\"id\":\"b1\",\"pid\":%d,\"annotations\":{\"io.ksmtuned.group\":\"b\"}}",
                             (int) child) > 0);
        run_stage(dir, OCI_STAGE_CREATE_RUNTIME, input, &rep);
        assert_int_equal(rep.outcome, OCI_OUTCOME_REFUSED);
        assert_string_equal(rep.group, "b");
        if (!strstr(rep.message, "sharing group \"b\" refused: group \"a\" is mergeable on this host (container holder"))
                fail_msg("unexpected message: %s", rep.message);
        assert_false(file_exists(dir, "s/oci-b1.json"));
        assert_false(file_exists(dir, "p/oci-b1.json"));
        assert_true(file_exists(dir, "s/oci-holder.json"));

        /* merge=false: an opt-out needs a cgroup of the container's own; ours is not. */
        free(input);
        assert_true(asprintf(&input, "{\"id\":\"n1\",\"pid\":%d,\"annotations\":{\"io.ksmtuned.merge\":\"false\"}}",
                             (int) child) > 0);
        run_stage(dir, OCI_STAGE_CREATE_RUNTIME, input, &rep);
        assert_int_equal(rep.outcome, OCI_OUTCOME_ERROR);
        assert_non_null(strstr(rep.message, "cannot opt out: the container has no cgroup v2 of its own"));
        assert_false(file_exists(dir, "p/oci-n1.json"));

        kill(child, SIGKILL);
        assert_int_equal(waitpid(child, &status, 0), child);
}

/* The program */

static int main_with_input(const char *input, int argc, char **argv) {
        int fds[2], saved, r;

        assert_se(pipe2(fds, O_CLOEXEC) == 0);
        assert_se(write(fds[1], input, strlen(input)) == (ssize_t) strlen(input));
        close(fds[1]);
        saved = dup(STDIN_FILENO);
        assert_se(saved >= 0 && dup2(fds[0], STDIN_FILENO) == STDIN_FILENO);
        close(fds[0]);
        r = oci_hook_main(argc, argv);
        assert_se(dup2(saved, STDIN_FILENO) == STDIN_FILENO);
        close(saved);
        return r;
}

static void test_main_exit_status(void **state) {
        const char *dir = *state;
        _cleanup_free_ char *pd = NULL, *sd = NULL;
        char *argv[8];

        assert_true(asprintf(&pd, "--policy-dir=%s/p", dir) > 0 && asprintf(&sd, "--state-dir=%s/s", dir) > 0);
        argv[0] = (char *) "ksmtuned-ng-oci-hook";
        argv[1] = pd;
        argv[2] = sd;
        argv[3] = (char *) "--socket=";
        argv[4] = (char *) "createRuntime";
        argv[5] = NULL;
        assert_int_equal(main_with_input("garbage", 5, argv), 0);
        assert_int_equal(main_with_input("{\"id\":\"x\",\"pid\":4194305,\"annotations\":{\"io.ksmtuned.merge\":\"true\"}}",
                                         5, argv), 0);
        argv[4] = (char *) "no-such-stage";
        assert_int_equal(main_with_input("{}", 5, argv), 0);
        argv[3] = (char *) "--timeout=1h";
        argv[4] = (char *) "createRuntime";
        assert_int_equal(main_with_input("{}", 5, argv), 0);
        argv[3] = (char *) "--no-such-option";
        assert_int_equal(main_with_input("{}", 5, argv), 0);
        argv[3] = (char *) "createRuntime";
        argv[4] = (char *) "poststop";
        assert_int_equal(main_with_input("{}", 5, argv), 0);
        assert_nothing_written(dir);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_parse_runc_create_runtime),
                cmocka_unit_test(test_parse_runc_poststop),
                cmocka_unit_test(test_parse_runc_no_annotations),
                cmocka_unit_test(test_parse_podman),
                cmocka_unit_test(test_parse_malformed),
                cmocka_unit_test(test_parse_tolerant),
                cmocka_unit_test(test_annotations),
                cmocka_unit_test(test_stage_names),
                cmocka_unit_test(test_policy_name),
                cmocka_unit_test(test_policy_format),
                SCRATCH_TEST(test_run_malformed_writes_nothing),
                SCRATCH_TEST(test_run_no_annotation),
                SCRATCH_TEST(test_run_poststop_removes),
                SCRATCH_TEST(test_run_stale_records_pruned),
                SCRATCH_TEST(test_run_group_refused),
                SCRATCH_TEST(test_main_exit_status),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
