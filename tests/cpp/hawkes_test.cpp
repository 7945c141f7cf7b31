#include <gtest/gtest.h>

TEST(Placeholder, hawkesTestsComing) { SUCCEED(); }
