module @jit_matmul_reduce attributes {mhlo.num_partitions = 1 : i32, mhlo.num_replicas = 1 : i32} {
  func.func public @main(%arg0: tensor<4x3xf32>, %arg1: tensor<3x5xf32>) -> (tensor<f32>) {
    %0 = stablehlo.dot_general %arg0, %arg1, contracting_dims = [1] x [0], precision = [DEFAULT, DEFAULT] : (tensor<4x3xf32>, tensor<3x5xf32>) -> tensor<4x5xf32> loc("tests/test_golden_stablehlo.py":44:20)
    %cst = stablehlo.constant dense<0.0> : tensor<f32> loc("tests/test_golden_stablehlo.py":44:12)
    %1 = stablehlo.reduce(%0 init: %cst) applies stablehlo.add across dimensions = [1] : (tensor<4x5xf32>, tensor<f32>) -> tensor<4xf32> loc("tests/test_golden_stablehlo.py":44:12)
    %cst_0 = stablehlo.constant dense<0xFF800000> : tensor<f32> loc("tests/test_golden_stablehlo.py":44:12)
    %2 = stablehlo.reduce(%1 init: %cst_0) applies stablehlo.maximum across dimensions = [0] : (tensor<4xf32>, tensor<f32>) -> tensor<f32> loc("tests/test_golden_stablehlo.py":44:12)
    return %2 : tensor<f32>
  }
}
