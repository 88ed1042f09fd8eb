import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.utils.Serialization;
import org.apache.spark.SparkConf;
import org.apache.spark.deploy.k8s.KubernetesConf$;
import org.apache.spark.deploy.k8s.KubernetesExecutorConf;
import org.apache.spark.deploy.k8s.SparkPod;
import org.apache.spark.resource.ResourceProfile$;
import org.apache.spark.scheduler.cluster.k8s.KubernetesExecutorBuilder;

/**
 * Prints, as YAML, executor 1 of application "pi" built by Spark's own code from the executor pod
 * template given as the only argument: KubernetesExecutorBuilder.buildFromFeatures (which reads the
 * template as spark.kubernetes.executor.podTemplateFile), then the container attached with fabric8's
 * PodBuilder as ExecutorPodsAllocator does before it creates the pod. Nothing is sent to a cluster.
 *
 * Run with the jars of a Spark distribution: java -cp "$SPARK_HOME/jars/*" SparkExecutor.java FILE
 */
public class SparkExecutor {
  public static void main(String[] args) throws Exception {
    SparkConf conf = new SparkConf(false)
        .set("spark.app.name", "pi")
        .set("spark.master", "k8s://https://127.0.0.1:6443")
        .set("spark.kubernetes.namespace", "ns")
        .set("spark.kubernetes.container.image", "spark:test")
        .set("spark.kubernetes.executor.podTemplateFile", args[0])
        .set("spark.kubernetes.executor.podTemplateContainerName", "spark-kubernetes-executor")
        .set("spark.kubernetes.executor.podNamePrefix", "pi")
        .set("spark.driver.host", "pi-driver-svc.ns.svc")
        .set("spark.driver.port", "7078");
    KubernetesExecutorConf executorConf =
        KubernetesConf$.MODULE$.createExecutorConf(conf, "1", "spark-0123", scala.Option.empty(), 0);
    try (KubernetesClient client = new KubernetesClientBuilder().build()) {
      org.apache.spark.SecurityManager security = new org.apache.spark.SecurityManager(conf, scala.Option.empty(),
          org.apache.spark.internal.config.package$.MODULE$.AUTH_SECRET_FILE());
      SparkPod executor = new KubernetesExecutorBuilder()
          .buildFromFeatures(executorConf, security, client, ResourceProfile$.MODULE$.getOrCreateDefaultProfile(conf))
          .pod();
      Pod pod = new PodBuilder(executor.pod())
          .editOrNewSpec().addToContainers(executor.container()).endSpec()
          .build();
      System.out.println(Serialization.asYaml(pod));
    }
  }
}
