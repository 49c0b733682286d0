// How a simulated daemon's port range is read from the kernel's ephemeral range.

import Testing

@testable import LotusSim

@Suite struct SimQuietPortsTests {
    @Test func theEphemeralRangesFirstPortIsRead() {
        #expect(SimQuietPorts.ephemeralStart(parsing: "32768\t60999\n") == 32_768)
        #expect(SimQuietPorts.ephemeralStart(parsing: "49152 65535") == 49_152)
        // Anything else is not trusted: the caller falls back to Linux's default.
        for text in ["", "32768", "60999 32768", "0 100", "a b", "32768 60999 1"] {
            #expect(SimQuietPorts.ephemeralStart(parsing: text) == nil, "\(text)")
        }
        #expect(SimQuietPorts.ephemeralStart(rangeFile: "/nonexistent/ip_local_port_range") == 49_152)
    }

    @Test func portsAreTakenFromBelowTheEphemeralRange() {
        #expect(SimQuietPorts.range(ephemeralStart: 32_768) == 10_000...32_767)
        // A range that starts low leaves too few ports below it: the kernel picks, as before.
        #expect(SimQuietPorts.range(ephemeralStart: 10_500) == nil)
        #expect(SimQuietPorts.range(ephemeralStart: 1_024) == nil)
    }
}
