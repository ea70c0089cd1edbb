module @jit_sort_cumsum attributes {mhlo.num_partitions = 1 : i32, mhlo.num_replicas = 1 : i32} {
  func.func public @main(%arg0: tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>) {
    %12 = "stablehlo.sort"(%arg0) <{dimension = 0 : i64, is_stable = true}> ({
      ^bb0(%r0: tensor<f32>, %r1: tensor<f32>):
        %cst = stablehlo.constant dense<0.0> : tensor<f32> loc("tests/test_golden_stablehlo.py":69:12)
        %2 = stablehlo.compare EQ, %r0, %cst, FLOAT : (tensor<f32>, tensor<f32>) -> tensor<i1> loc("tests/test_golden_stablehlo.py":69:12)
        %3 = stablehlo.select %2, %cst, %r0 : tensor<i1>, tensor<f32> loc("tests/test_golden_stablehlo.py":69:12)
        %4 = stablehlo.compare NE, %3, %3, FLOAT : (tensor<f32>, tensor<f32>) -> tensor<i1> loc("tests/test_golden_stablehlo.py":69:12)
        %cst_0 = stablehlo.constant dense<0x7FC00000> : tensor<f32> loc("tests/test_golden_stablehlo.py":69:12)
        %5 = stablehlo.select %4, %cst_0, %3 : tensor<i1>, tensor<f32> loc("tests/test_golden_stablehlo.py":69:12)
        %6 = stablehlo.compare EQ, %r1, %cst, FLOAT : (tensor<f32>, tensor<f32>) -> tensor<i1> loc("tests/test_golden_stablehlo.py":69:12)
        %7 = stablehlo.select %6, %cst, %r1 : tensor<i1>, tensor<f32> loc("tests/test_golden_stablehlo.py":69:12)
        %8 = stablehlo.compare NE, %7, %7, FLOAT : (tensor<f32>, tensor<f32>) -> tensor<i1> loc("tests/test_golden_stablehlo.py":69:12)
        %9 = stablehlo.select %8, %cst_0, %7 : tensor<i1>, tensor<f32> loc("tests/test_golden_stablehlo.py":69:12)
        %10 = stablehlo.compare LT, %5, %9, TOTALORDER : (tensor<f32>, tensor<f32>) -> tensor<i1> loc("tests/test_golden_stablehlo.py":69:12)
        %11 = stablehlo.compare EQ, %5, %9, TOTALORDER : (tensor<f32>, tensor<f32>) -> tensor<i1> loc("tests/test_golden_stablehlo.py":69:12)
        stablehlo.return %10 : tensor<i1> loc("tests/test_golden_stablehlo.py":69:12)
    }) : (tensor<4xf32>) -> (tensor<4xf32>) loc("tests/test_golden_stablehlo.py":69:12)
    %cst_1 = stablehlo.constant dense<0.0> : tensor<f32> loc("tests/test_golden_stablehlo.py":69:23)
    %16 = "stablehlo.reduce_window"(%arg0, %cst_1) <{padding = dense<[[0, 3]]> : tensor<1x2xi64>, window_dimensions = array<i64: 4>, window_strides = array<i64: 1>}> ({
      ^bb0(%r13: tensor<f32>, %r14: tensor<f32>):
        %15 = stablehlo.add %r13, %r14 : tensor<f32> loc("tests/test_golden_stablehlo.py":69:23)
        stablehlo.return %15 : tensor<f32> loc("tests/test_golden_stablehlo.py":69:23)
    }) : (tensor<4xf32>, tensor<f32>) -> tensor<4xf32> loc("tests/test_golden_stablehlo.py":69:23)
    return %12, %16 : tensor<4xf32>, tensor<4xf32>
  }
}
