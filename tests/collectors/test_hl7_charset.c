/*  tests/collectors/test_hl7_charset.c - HL7 messages in GB 18030
 *
 *  MSH-18 read and the message converted to UTF-8 before it is split: a
 *  GB 18030 character whose second byte is '|' does not cut a field, and a
 *  chief complaint in GB 18030 matches the condition rules' Chinese
 *  keywords through the HL7 feed; ASCII and UTF-8 messages pass untouched;
 *  an unknown character set and bytes that are not GB 18030 are refused
 *  with their reason.
 */
#include "feed_hl7.h"
#include "hl7_charset.h"

#include "sentinel/mem.h"
#include "support.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* An ADT^A04 with MSH-18 `charset` and the chief complaint `cc` (bytes in
 * that set). Caller frees. */
static char *
s_message(const char *charset, const char *cc)
{
    return sn_strdup_printf(
        "MSH|^~\\&|EHR|GENERAL HOSP|SENTINEL|CDC|20261121093000+0800||"
        "ADT^A04^ADT_A01|MSG00003|P|2.5.1||||||%s\r"
        "EVN||20261121093000+0800\r"
        "PID|1||||||20190301|F\r"
        "PV1|1|E|||||||||||||||||V-881|||||||||||||||||||||||||"
        "20261121\r"
        "OBX|1|CWE|8661-1^Chief complaint^LN||^%s||||||F\r",
        charset, cc);
}

/* 发热咳嗽 (fever, cough) and 亅 (second byte '|') in GB 18030. */
#define GB_FEVER_COUGH "\xb7\xa2\xc8\xc8\xbf\xc8\xcb\xd4"
#define GB_PIPE_CHAR "\x81|"
#define UTF8_FEVER_COUGH "\xe5\x8f\x91\xe7\x83\xad\xe5\x92\xb3\xe5\x97\xbd"

START_TEST(test_hl7_charset_converts_gb18030)
{
    col_hl7_charset_t *cs = col_hl7_charset_new();
    char *msg = s_message("GB 18030-2000", GB_FEVER_COUGH " " GB_PIPE_CHAR);
    const uint8_t *out;
    size_t n;
    sn_err_t err;
    ck_assert_int_eq(col_hl7_charset_utf8(cs, (const uint8_t *)msg, strlen(msg),
                                          &out, &n, &err),
                     SN_OK);
    char *text = sn_strndup((const char *)out, n);
    ck_assert_ptr_nonnull(strstr(text, "^" UTF8_FEVER_COUGH " \xe4\xba\x85|"));
    /* The OBX still has its 11 fields: the '|' inside 亅 is gone. */
    const char *obx = strstr(text, "OBX|");
    int bars = 0;
    for (const char *p = obx; *p != '\r'; p++) {
        bars += *p == '|';
    }
    ck_assert_int_eq(bars, 11);
    free(text);
    free(msg);
    col_hl7_charset_destroy(&cs);
    ck_assert_ptr_null(cs);
}
END_TEST

START_TEST(test_hl7_charset_feed_matches_keywords)
{
    /* Through the feed: the GB 18030 complaint maps to ILI, as the same
     * complaint in UTF-8 does. */
    static const col_site_t site = {"H0001", SN_SOURCE_HOSPITAL, "110105"};
    const char *cases[][2] = {{"GB 18030-2000", GB_FEVER_COUGH},
                              {"UNICODE UTF-8", UTF8_FEVER_COUGH},
                              {"", UTF8_FEVER_COUGH}};
    for (size_t i = 0; i < 3; i++) {
        col_cmap_t *cmap = col_cmap_new(true);
        col_feed_t *feed = col_feed_hl7_new("adt.hl7", &site, NULL, &cmap, 0);
        char *msg = s_message(cases[i][0], cases[i][1]);
        col_feed_push(feed, msg, strlen(msg));
        col_feed_end(feed);
        col_record_t rec;
        ck_assert_int_eq(col_feed_next(feed, &rec), COL_FEED_EVENT);
        ck_assert_str_eq(rec.event.condition, "ili");
        col_feed_destroy(&feed);
        free(msg);
    }
}
END_TEST

START_TEST(test_hl7_charset_refusals)
{
    col_hl7_charset_t *cs = col_hl7_charset_new();
    const uint8_t *out;
    size_t n;
    sn_err_t err;
    char *jp = s_message("ISO IR87", "x");
    ck_assert_int_eq(col_hl7_charset_utf8(cs, (const uint8_t *)jp, strlen(jp),
                                          &out, &n, &err),
                     SN_EUNSUPPORTED);
    ck_assert_str_eq(err.msg, "MSH-18: character set 'ISO IR87' is not "
                              "supported (ASCII, UNICODE UTF-8, GB "
                              "18030-2000, 8859/1)");
    char *bad = s_message("GB 18030-2000", "ok \xff");
    ck_assert_int_eq(col_hl7_charset_utf8(cs, (const uint8_t *)bad, strlen(bad),
                                          &out, &n, &err),
                     SN_EPARSE);
    ck_assert_ptr_nonnull(strstr(err.msg, "is not GB18030 (as MSH-18 'GB "
                                          "18030-2000' says)"));
    /* ASCII without MSH-18: the message itself, not a copy. */
    char *plain = s_message("", "Fever and cough");
    ck_assert_int_eq(col_hl7_charset_utf8(cs, (const uint8_t *)plain,
                                          strlen(plain), &out, &n, &err),
                     SN_OK);
    ck_assert_ptr_eq(out, plain);
    ck_assert_uint_eq(n, strlen(plain));
    free(jp);
    free(bad);
    free(plain);
    col_hl7_charset_destroy(&cs);
}
END_TEST

static Suite *
hl7_charset_suite(void)
{
    Suite *s = suite_create("hl7_charset");
    TCase *usage = tcase_create("usage");
    tcase_add_test(usage, test_hl7_charset_converts_gb18030);
    tcase_add_test(usage, test_hl7_charset_feed_matches_keywords);
    suite_add_tcase(s, usage);
    TCase *errors = tcase_create("errors");
    tcase_add_test(errors, test_hl7_charset_refusals);
    suite_add_tcase(s, errors);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(hl7_charset_suite());
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
