import { bytes, decimalBytes, fmt } from "../../sizing/format";

test("numbers in messages are grouped by thousands", () => {
  expect([fmt(0), fmt(999), fmt(1_000), fmt(99_999), fmt(1_000_000), fmt(-12_345), fmt(1234.5)]).toEqual([
    "0",
    "999",
    "1,000",
    "99,999",
    "1,000,000",
    "-12,345",
    "1,234.5",
  ]);
});

test("sizes read in binary units, bandwidth in the guide's decimal ones", () => {
  expect([bytes(512), bytes(8 * 1024 ** 2), bytes(1.5 * 1024 ** 3)]).toEqual(["512 B", "8 MiB", "1.5 GiB"]);
  expect([decimalBytes(100_000), decimalBytes(33_333.3), decimalBytes(3_333_333)]).toEqual([
    "100 KB",
    "33.3 KB",
    "3.3 MB",
  ]);
});
