using Chroma.Benchmarks.Recommendations;

return args is ["recs", .. var rest] ? RecommendationBenchmark.Run(rest) : 0;
