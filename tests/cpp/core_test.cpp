#include <gtest/gtest.h>

#include <string>
#include <type_traits>

#include "mmkit/core/decimal.h"
#include "mmkit/core/error.h"
#include "mmkit/core/event.h"
#include "mmkit/core/instrument.h"
#include "mmkit/core/time.h"

namespace mmkit {
namespace {

TEST(Event, IsTriviallyCopyableAndSixtyFourBytes) {
  static_assert(std::is_trivially_copyable_v<Event>);
  EXPECT_EQ(sizeof(Event), 64u);
  EXPECT_EQ(offsetof(Event, exch_ts_ns), 0u);
  EXPECT_EQ(offsetof(Event, flags), 62u);
}

TEST(Decimal, ParsesExactlyAtScale) {
  std::int64_t v = 0;
  ASSERT_TRUE(parse_decimal("61800.20", 8, v));
  EXPECT_EQ(v, 6180020000000);
  ASSERT_TRUE(parse_decimal("0.000", 8, v));
  EXPECT_EQ(v, 0);
  ASSERT_TRUE(parse_decimal("-1.5", 2, v));
  EXPECT_EQ(v, -150);
  ASSERT_TRUE(parse_decimal("42", 0, v));
  EXPECT_EQ(v, 42);
  ASSERT_TRUE(parse_decimal(".5", 1, v));
  EXPECT_EQ(v, 5);
  ASSERT_TRUE(parse_decimal("1.2300", 2, v));  // trailing zeros beyond the scale are exact
  EXPECT_EQ(v, 123);
}

TEST(Decimal, RejectsWhatIsNotAnExactDecimal) {
  std::int64_t v = 0;
  EXPECT_FALSE(parse_decimal("", 2, v));
  EXPECT_FALSE(parse_decimal("1.234", 2, v));  // would lose a digit
  EXPECT_FALSE(parse_decimal("1e5", 2, v));
  EXPECT_FALSE(parse_decimal("12a", 2, v));
  EXPECT_FALSE(parse_decimal(".", 2, v));
  EXPECT_FALSE(parse_decimal("99999999999999999999", 0, v));  // overflow
  EXPECT_FALSE(parse_decimal("92233720368.54775808", 8, v));  // just above int64 max
}

TEST(Decimal, FormatsWithDisplayDecimals) {
  EXPECT_EQ(format_decimal(5794000, 4, 2), "579.40");
  EXPECT_EQ(format_decimal(6180020000000, 8, 1), "61800.2");
  EXPECT_EQ(format_decimal(-150, 2, 2), "-1.50");
  EXPECT_EQ(format_decimal(7, 0, 0), "7");
  EXPECT_EQ(format_decimal(5794001, 4, 2), "579.4001");  // not representable: all digits
  EXPECT_EQ(format_decimal(5, 4, 4), "0.0005");
}

TEST(Decimal, IntegersRejectJunkAndOverflow) {
  std::int64_t v = 0;
  std::uint64_t u = 0;
  EXPECT_TRUE(parse_int("-9223372036854775808", v));
  EXPECT_EQ(v, INT64_MIN);
  EXPECT_FALSE(parse_int("9223372036854775808", v));
  EXPECT_FALSE(parse_int("-", v));
  EXPECT_TRUE(parse_uint("18446744073709551615", u));
  EXPECT_FALSE(parse_uint("18446744073709551616", u));
  EXPECT_FALSE(parse_uint("1 ", u));
}

TEST(Instrument, DisplayDecimalsFollowTickAndLot) {
  InstrumentSpec s;
  s.price_decimals = 4;
  s.tick_size = 100;  // $0.01
  s.qty_decimals = 8;
  s.lot_size = 100000;  // 0.001
  EXPECT_EQ(s.price_display_decimals(), 2);
  EXPECT_EQ(s.qty_display_decimals(), 3);
  s.set_symbol("A-VERY-LONG-SYMBOL-NAME-THAT-DOES-NOT-FIT");
  EXPECT_EQ(s.symbol_str().size(), sizeof(s.symbol) - 1);
  EXPECT_DOUBLE_EQ(s.price_to_double(5794000), 579.4);
}

TEST(Time, NewYorkMidnightUsesDaylightSavingTime) {
  // 2012-06-21 is in EDT (UTC-4): local midnight = 04:00 UTC = 1340251200 s.
  EXPECT_EQ(local_midnight_utc_ns("2012-06-21", "America/New_York"), 1340251200LL * 1'000'000'000LL);
  // 2012-01-03 is in EST (UTC-5).
  EXPECT_EQ(local_midnight_utc_ns("2012-01-03", "America/New_York"), 1325566800LL * 1'000'000'000LL);
}

TEST(Time, BadDateOrZoneThrows) {
  EXPECT_THROW((void)local_midnight_utc_ns("2012-13-01", "America/New_York"), Error);
  EXPECT_THROW((void)local_midnight_utc_ns("2012-06-21", "Mars/Olympus_Mons"), Error);
}

TEST(Time, LobsterSecondsAfterMidnightAreExact) {
  std::int64_t ns = 0;
  ASSERT_TRUE(parse_seconds_ns("34200.015105074", ns));
  EXPECT_EQ(ns, 34200015105074LL);
  ASSERT_TRUE(parse_seconds_ns("34200.05990197", ns));
  EXPECT_EQ(ns, 34200059901970LL);
  ASSERT_TRUE(parse_seconds_ns("57600", ns));
  EXPECT_EQ(ns, 57600LL * 1'000'000'000LL);
  EXPECT_FALSE(parse_seconds_ns("1.0000000001", ns));
  EXPECT_FALSE(parse_seconds_ns("abc", ns));
}

TEST(Time, Iso8601WithOffsets) {
  TimestampNs t = 0;
  ASSERT_TRUE(parse_iso8601_ns("2025-05-29 19:00:00+00:00", t));
  EXPECT_EQ(t, 1748545200LL * 1'000'000'000LL);
  ASSERT_TRUE(parse_iso8601_ns("2025-05-29T21:00:00+02:00", t));
  EXPECT_EQ(t, 1748545200LL * 1'000'000'000LL);
  ASSERT_TRUE(parse_iso8601_ns("2025-08-01T00:00:00.5Z", t));
  EXPECT_EQ(t, 1754006400LL * 1'000'000'000LL + 500'000'000LL);
  ASSERT_TRUE(parse_iso8601_ns("2025-08-01", t));
  EXPECT_EQ(t, 1754006400LL * 1'000'000'000LL);
  EXPECT_FALSE(parse_iso8601_ns("2025-08-01T25:00", t));
  EXPECT_FALSE(parse_iso8601_ns("2025-08-01T00:00:00+0200", t));
  EXPECT_EQ(format_utc(1754006400LL * 1'000'000'000LL), "2025-08-01T00:00:00.000000000Z");
}

TEST(Error, MessageNamesFileLineAndField) {
  try {
    throw_at_line("GOOG_message_10.csv", 1234, "price", "unparsable integer 'abc'");
    FAIL();
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "GOOG_message_10.csv:1234: field 'price': unparsable integer 'abc'");
    EXPECT_EQ(e.where().line, 1234u);
  }
  try {
    throw_at_offset("es.dbn.zst", 56, "", "truncated record");
    FAIL();
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "es.dbn.zst @ byte 56: truncated record");
  }
}

}  // namespace
}  // namespace mmkit
