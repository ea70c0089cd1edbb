module @jit_sort_cumsum attributes {mhlo.num_partitions = 1 : i32, mhlo.num_replicas = 1 : i32} {
  func.func public @main(%arg0: tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>) {
    %0 = "stablehlo.sort"(%arg0) <{dimension = 0 : i64, is_stable = true}> ({
      ^bb0(%arg1: tensor<f32>, %arg2: tensor<f32>):
        %cst = stablehlo.constant dense<0.0> : tensor<f32> loc("tests/test_golden_stablehlo.py":69:12)
        %1 = stablehlo.compare EQ, %arg1, %cst, FLOAT : (tensor<f32>, tensor<f32>) -> tensor<i1> loc("tests/test_golden_stablehlo.py":69:12)
        %2 = stablehlo.select %1, %cst, %arg1 : tensor<i1>, tensor<f32> loc("tests/test_golden_stablehlo.py":69:12)
        %3 = stablehlo.compare NE, %2, %2, FLOAT : (tensor<f32>, tensor<f32>) -> tensor<i1> loc("tests/test_golden_stablehlo.py":69:12)
        %cst_0 = stablehlo.constant dense<0x7FC00000> : tensor<f32> loc("tests/test_golden_stablehlo.py":69:12)
        %4 = stablehlo.select %3, %cst_0, %2 : tensor<i1>, tensor<f32> loc("tests/test_golden_stablehlo.py":69:12)
        %5 = stablehlo.compare EQ, %arg2, %cst, FLOAT : (tensor<f32>, tensor<f32>) -> tensor<i1> loc("tests/test_golden_stablehlo.py":69:12)
        %6 = stablehlo.select %5, %cst, %arg2 : tensor<i1>, tensor<f32> loc("tests/test_golden_stablehlo.py":69:12)
        %7 = stablehlo.compare NE, %6, %6, FLOAT : (tensor<f32>, tensor<f32>) -> tensor<i1> loc("tests/test_golden_stablehlo.py":69:12)
        %8 = stablehlo.select %7, %cst_0, %6 : tensor<i1>, tensor<f32> loc("tests/test_golden_stablehlo.py":69:12)
        %9 = stablehlo.compare LT, %4, %8, TOTALORDER : (tensor<f32>, tensor<f32>) -> tensor<i1> loc("tests/test_golden_stablehlo.py":69:12)
        stablehlo.return %9 : tensor<i1> loc("tests/test_golden_stablehlo.py":69:12)
    }) : (tensor<4xf32>) -> (tensor<4xf32>) loc("tests/test_golden_stablehlo.py":69:12)
    %cst_1 = stablehlo.constant dense<0.0> : tensor<f32> loc("tests/test_golden_stablehlo.py":69:23)
    %10 = "stablehlo.reduce_window"(%arg0, %cst_1) <{padding = dense<[[0, 3]]> : tensor<1x2xi64>, window_dimensions = array<i64: 4>, window_strides = array<i64: 1>}> ({
      ^bb0(%arg3: tensor<f32>, %arg4: tensor<f32>):
        %11 = stablehlo.add %arg3, %arg4 : tensor<f32> loc("tests/test_golden_stablehlo.py":69:23)
        stablehlo.return %11 : tensor<f32> loc("tests/test_golden_stablehlo.py":69:23)
    }) : (tensor<4xf32>, tensor<f32>) -> tensor<4xf32> loc("tests/test_golden_stablehlo.py":69:23)
    return %0, %10 : tensor<4xf32>, tensor<4xf32>
  }
}
