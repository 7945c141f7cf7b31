#include <gtest/gtest.h>

TEST(Placeholder, event_fileTestsComing) { SUCCEED(); }
