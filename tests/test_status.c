/* Version, status codes and the log hook. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include <bert/bert.h>

#include "common/common.h"

static void test_version_macros_agree_with_runtime(void **state)
{
    (void)state;
    char s[32];
    snprintf(s, sizeof s, "%d.%d.%d", BERT_VERSION_MAJOR, BERT_VERSION_MINOR, BERT_VERSION_PATCH);
    assert_string_equal(s, BERT_VERSION_STRING);
    assert_string_equal(bert_version_string(), BERT_VERSION_STRING);
    assert_int_equal(bert_version_number(), BERT_VERSION_NUMBER);
    assert_int_equal(BERT_VERSION_NUMBER, BERT_VERSION_MAJOR * 10000 + BERT_VERSION_MINOR * 100 + BERT_VERSION_PATCH);
}

static void test_status_numbers_names_and_messages(void **state)
{
    (void)state;
    /* The numbers are a contract: they never change. */
    assert_int_equal(BERT_OK, 0);
    assert_int_equal(BERT_E_INVALID_ARG, 1);
    assert_int_equal(BERT_E_NOMEM, 2);
    assert_int_equal(BERT_E_UTF8, 7);
    assert_int_equal(BERT_E_INTERNAL, 13);
    assert_int_equal(BERT_E_TRUNCATION, 14);
    assert_int_equal(BERT_E_NUMERIC, 15);
    assert_string_equal(bert_status_name(BERT_E_UTF8), "BERT_E_UTF8");
    assert_string_equal(bert_status_str(BERT_OK), "success");
    for (int i = 0; i <= BERT_E_NUMERIC; i++) {
        const char *m = bert_status_str((bert_status)i);
        assert_non_null(m);
        assert_true(strlen(m) > 3);
        assert_string_not_equal(m, "unknown status");
        assert_memory_equal(bert_status_name((bert_status)i), "BERT_", 5);
    }
    assert_string_equal(bert_status_str((bert_status)999), "unknown status");
    assert_string_equal(bert_status_name((bert_status)-1), "BERT_E_UNKNOWN");
}

static int n_logged;
static char last_msg[256];
static void *last_user;
static void capture(bert_log_level level, const char *msg, void *user)
{
    (void)level;
    n_logged++;
    snprintf(last_msg, sizeof last_msg, "%s", msg);
    last_user = user;
}

static void test_log_is_silent_by_default_and_filters_by_level(void **state)
{
    (void)state;
    int tag = 0;
    n_logged = 0;
    bert__log(BERT_LOG_ERROR, "nobody hears this");
    assert_int_equal(n_logged, 0);
    bert_log_set(capture, &tag, BERT_LOG_INFO);
    bert__log(BERT_LOG_DEBUG, "too detailed");
    assert_int_equal(n_logged, 0);
    bert__log(BERT_LOG_WARN, "value %d", 42);
    assert_int_equal(n_logged, 1);
    assert_string_equal(last_msg, "value 42");
    assert_ptr_equal(last_user, &tag);
    bert_log_set(NULL, NULL, BERT_LOG_DEBUG);
    bert__log(BERT_LOG_ERROR, "silence again");
    assert_int_equal(n_logged, 1);
    assert_string_equal(bert_log_level_name(BERT_LOG_DEBUG), "debug");
}

static void test_errbuf_is_optional_and_truncates(void **state)
{
    (void)state;
    char small[8];
    assert_int_equal(bert__errbuf_set(NULL, 0, BERT_E_IO, "x %d", 1), BERT_E_IO);
    assert_int_equal(bert__errbuf_set(small, sizeof small, BERT_E_FORMAT, "%s", "a long message"), BERT_E_FORMAT);
    assert_string_equal(small, "a long ");
}

static void test_calloc_refuses_overflowing_products(void **state)
{
    (void)state;
    assert_null(bert__calloc(SIZE_MAX / 2, 4));
    assert_null(bert__reallocarray(NULL, SIZE_MAX / 8, 16));
    void *p = bert__calloc(4, 4);
    assert_non_null(p);
    bert__free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_version_macros_agree_with_runtime),
        cmocka_unit_test(test_status_numbers_names_and_messages),
        cmocka_unit_test(test_log_is_silent_by_default_and_filters_by_level),
        cmocka_unit_test(test_errbuf_is_optional_and_truncates),
        cmocka_unit_test(test_calloc_refuses_overflowing_products),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
