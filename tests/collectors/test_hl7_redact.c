/*  tests/collectors/test_hl7_redact.c - personal identifiers blanked in a
 *  refused HL7 message's raw bytes
 *
 *  The redaction on its own (which fields go, which stay, other
 *  separators, messages without MSH, cut short or with other line ends),
 *  and through the HL7 feed: a refused message's rec.raw, what the dead
 *  letter keeps, holds no name, identifier, address or phone number.
 */
#include "feed_hl7.h"
#include "hl7_redact.h"

#include "sentinel/mem.h"
#include "support.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

/* Redact the NUL-terminated `in` into a new string. */
static char *
s_redact(const char *in)
{
    size_t len = strlen(in);
    char *out = sn_calloc(len + 1, 1);
    size_t n = col_hl7_redact((const uint8_t *)in, len, (uint8_t *)out);
    ck_assert_uint_le(n, len);
    out[n] = '\0';
    return out;
}

static void
s_expect(const char *in, const char *want)
{
    char *got = s_redact(in);
    ck_assert_str_eq(got, want);
    free(got);
}

START_TEST(test_hl7_redact_usage)
{
    s_expect("MSH|^~\\&|EHR|HOSP|||20261121||ADT^A04|M1|P|2.5.1\r"
             "PID|1|EXT9|MRN123^^^H^MR|ALT|Zhang^San||20190502|F|Al^X|"
             "2106-3|88 Changan St^^Beijing|110105|^PRN^PH^^86^10^5555|"
             "^WPN^PH^^86^10^6666|zh|M|BUD|ACCT1|110101199001011234|"
             "DL42|MOM7|N\r"
             "NK1|1|Zhang^Li|MTH|88 Changan St|^PRN^PH^^86^10^5555\r"
             "PV1|1|E|||||||||||||||||V1001\r",
             "MSH|^~\\&|EHR|HOSP|||20261121||ADT^A04|M1|P|2.5.1\r"
             "PID|1||||||20190502|F||2106-3||110105|||zh|M|BUD|ACCT1||||N\r"
             "NK1|||||\r"
             "PV1|1|E|||||||||||||||||V1001\r");
}
END_TEST

START_TEST(test_hl7_redact_edges)
{
    /* another field separator, taken from MSH-1 */
    s_expect("MSH#^~\\&#EHR\nPID#1##MRN1##Li^Si##20190502#M\n",
             "MSH#^~\\&#EHR\nPID#1######20190502#M\n");
    /* a segment with a separator other than MSH-1's uses its own */
    s_expect("MSH|^~\\&|EHR\rPID#1##MRN1##Li^Si\r",
             "MSH|^~\\&|EHR\rPID#1####\r");
    /* no MSH: '|' assumed; CRLF line ends kept */
    s_expect("EVN||2026\r\nPID|1||MRN1||Li^Si\r\n",
             "EVN||2026\r\nPID|1||||\r\n");
    /* cut short inside a name; GT1, IN1 and MRG go whole */
    s_expect("PID|1||MRN1||Li^S", "PID|1||||");
    s_expect("GT1|1|G7|Wang^Wu\rIN1|1|PLAN|INS|Ins Co\rMRG|OLD1",
             "GT1|||\rIN1||||\rMRG|");
    /* short segments, empty input, segment names in other cases */
    s_expect("PI\rP\r\r", "PI\rP\r\r");
    s_expect("", "");
    s_expect("pid|1||MRN1", "pid|1||MRN1");
    /* A GB 18030 name whose character 亅 ends in '|' (0x81 0x7c): the
     * fields cannot be counted, so nothing of the PID is kept; the same
     * name in UTF-8 is counted as usual. */
    s_expect("PID|1||MRN1||\xd5\xc5\x81|||19900101|M|||Addr 1\r",
             "PID||||||||||||\r");
    s_expect("PID|1||MRN1||\xe5\xbc\xa0\xe4\xba\x85||19900101|M\r",
             "PID|1||||||19900101|M\r");
}
END_TEST

/* A refused message through the feed: rec.raw keeps the shape without
 * the patient. */
START_TEST(test_hl7_redact_feed_reject)
{
    const char *msg =
        "MSH|^~\\&|EHR|GENERAL HOSP|SENTINEL|CDC|20261121093000+0800||"
        "ADT^A04^ADT_A01|MSG00006|P|2.5.1\r"
        "EVN||20261121093000+0800\r"
        "PID|1||MRN123456^^^GENERAL HOSP^MR||Zhang^San^^^^^L||20190502|F|||"
        "88 Changan Street^^Beijing^^100000^CHN^H||^PRN^PH^^86^10^55551234\r"
        "PV1|1|E\r";
    static const col_site_t site = {"H0001", SN_SOURCE_HOSPITAL, "110105"};
    col_cmap_t *cmap = col_cmap_new(true);
    col_feed_t *feed = col_feed_hl7_new("adt.hl7", &site, NULL, &cmap, 0);
    col_record_t rec;
    ck_assert_int_eq(col_feed_parse(feed, msg, strlen(msg), &rec),
                     COL_FEED_REJECT);
    ck_assert_str_eq(rec.err.msg, "PV1-19: missing visit number");
    char *raw = sn_calloc(rec.raw_len + 1, 1);
    memcpy(raw, rec.raw, rec.raw_len);
    ck_assert_ptr_null(strstr(raw, "Zhang"));
    ck_assert_ptr_null(strstr(raw, "MRN123456"));
    ck_assert_ptr_null(strstr(raw, "Changan"));
    ck_assert_ptr_null(strstr(raw, "55551234"));
    ck_assert_ptr_nonnull(strstr(raw, "PID|1||||||20190502|F|||||\r"));
    ck_assert_ptr_nonnull(strstr(raw, "MSG00006"));
    free(raw);
    col_feed_destroy(&feed);
}
END_TEST

static Suite *
hl7_redact_suite(void)
{
    Suite *s = suite_create("hl7_redact");
    TCase *usage = tcase_create("usage");
    tcase_add_test(usage, test_hl7_redact_usage);
    tcase_add_test(usage, test_hl7_redact_feed_reject);
    suite_add_tcase(s, usage);
    TCase *edges = tcase_create("edges");
    tcase_add_test(edges, test_hl7_redact_edges);
    suite_add_tcase(s, edges);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(hl7_redact_suite());
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
