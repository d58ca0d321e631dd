package duel

// kindHalves are a kind's client and server halves and its merge.
type kindHalves struct{}

// The registered test kinds, in report order.
var (
	tcpThroughput = register(&Kind{Proto: ProtoTCP, Test: TestThroughput, DefaultSize: DefaultTCPSize,
		Figures: FigFrames | FigStream | FigTCPInfo | FigConnection})
	udpThroughput = register(&Kind{Proto: ProtoUDP, Test: TestThroughput, DefaultSize: DefaultUDPSize, MaxSize: maxUDPFrame,
		Figures: FigFrames | FigStream | FigPacing | FigJitter})
	tcpLatency = register(&Kind{Proto: ProtoTCP, Test: TestLatency, DefaultSize: DefaultLatencySize,
		Figures: FigFrames | FigRoundTrips | FigTCPInfo | FigConnection})
	udpLatency = register(&Kind{Proto: ProtoUDP, Test: TestLatency, DefaultSize: DefaultLatencySize, MaxSize: maxUDPFrame,
		Figures: FigFrames | FigRoundTrips})
)
