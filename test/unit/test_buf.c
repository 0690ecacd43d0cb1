/* Unit tests of base/tn_buf: growth, cap, sticky failure, SQL quoting. */
#include "base/compat.h"
#include <setjmp.h>
#include <cmocka.h>
#include "base/tn_buf.h"
#include "base/tn_mem.h"

static void test_grow(void **state)
{
	struct tn_buf b = TN_BUF_INIT(TN_BUF_NOMAX);
	int i;

	(void)state;
	assert_string_equal(b.buf, "");
	for (i = 0; i < 1000; i++)
		tn_buf_addf(&b, "%d,", i % 10);
	assert_int_equal(b.len, 2000);
	assert_int_equal(b.buf[b.len], '\0');
	tn_buf_release(&b);
}

static void test_sticky(void **state)
{
	struct tn_buf b = TN_BUF_INIT(8);
	struct tn_err err = TN_ERR_INIT;

	(void)state;
	tn_buf_adds(&b, "0123");
	tn_buf_add(&b, "0123456789", 10);
	tn_buf_adds(&b, "x");
	assert_int_equal(tn_buf_check(&b, &err), TN_EINVAL);
	assert_int_equal(b.len, 0);
	assert_string_equal(b.buf, "");
	tn_buf_release(&b);
}

static void test_quote(void **state)
{
	struct tn_buf b = TN_BUF_INIT(TN_BUF_NOMAX);

	(void)state;
	tn_buf_add_sqlstr(&b, "it's");
	tn_buf_addc(&b, ' ');
	tn_buf_add_sqlid(&b, "a\"b");
	assert_string_equal(b.buf, "'it''s' \"a\"\"b\"");
	tn_buf_release(&b);
}

static void test_detach(void **state)
{
	struct tn_buf b = TN_BUF_INIT(TN_BUF_NOMAX);
	size_t n;
	char *s;

	(void)state;
	tn_buf_adds(&b, "hello");
	s = tn_buf_detach(&b, &n);
	assert_int_equal(n, 5);
	assert_string_equal(s, "hello");
	assert_int_equal(b.len, 0);
	tn_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_grow),
		cmocka_unit_test(test_sticky),
		cmocka_unit_test(test_quote),
		cmocka_unit_test(test_detach),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
